// The Spin target: `wfn deploy --target spin --dry-run` writes spin.toml beside the component;
// the manifest parses as TOML and has the fields of Spin's manifest version 2 with the values
// Spin requires (kebab-case ids, a route, a source that exists, outbound hosts in Spin's form).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'smol-toml';
import { describe, expect, it, vi } from 'vitest';
import { adapter } from '../../../adapters/spin/index.js';
import { SPIN_ID, spinId, spinManifest } from '../../../adapters/spin/manifest.js';
import { parseRegistryRef } from '../../../adapters/spin/oci.js';
import { UserError } from '../../../src/util/errors.js';
import { artifactFrom } from '../../../src/project/artifact.js';
import { componentWorld, proxyWorldProblems } from '../../../src/pipeline/component-world.js';
import { wfn } from '../../helpers/cli.js';
import { textFunction } from '../../server/serve/helpers.js';

vi.setConfig({ testTimeout: 600_000 });

/** The keys Spin's manifest v2 schema allows at each level we write (spin_manifest_version 2, spin-manifest crate). */
const TOP = new Set(['spin_manifest_version', 'application', 'variables', 'trigger', 'component']);
const APPLICATION = new Set(['name', 'version', 'description', 'authors', 'targets', 'trigger', 'tool']);
const HTTP_TRIGGER = new Set(['route', 'component', 'executor', 'static_response']);
const COMPONENT = new Set(['source', 'description', 'variables', 'environment', 'files', 'exclude_files', 'allowed_http_hosts', 'allowed_outbound_hosts', 'key_value_stores', 'sqlite_databases', 'ai_models', 'build', 'tool', 'dependencies_inherit_configuration', 'dependencies']);
const VARIABLE = new Set(['default', 'required', 'secret']);

type Table = Record<string, unknown>;

function checkSchema(doc: Table): void {
  for (const key of Object.keys(doc)) expect(TOP, `top-level key ${key}`).toContain(key);
  expect(doc.spin_manifest_version).toBe(2);
  const app = doc.application as Table;
  for (const key of Object.keys(app)) expect(APPLICATION, `application.${key}`).toContain(key);
  expect(app.name).toMatch(SPIN_ID);
  const triggers = (doc.trigger as Table).http as Table[];
  expect(triggers).toHaveLength(1);
  for (const t of triggers) {
    for (const key of Object.keys(t)) expect(HTTP_TRIGGER, `trigger.http.${key}`).toContain(key);
    expect(t.route).toBe('/...');
  }
  const components = doc.component as Record<string, Table>;
  for (const [id, c] of Object.entries(components)) {
    expect(id).toMatch(SPIN_ID);
    for (const key of Object.keys(c)) expect(COMPONENT, `component.${id}.${key}`).toContain(key);
    expect(typeof c.source).toBe('string');
  }
  expect(Object.keys(components)).toContain(triggers[0].component);
  for (const [name, v] of Object.entries((doc.variables ?? {}) as Record<string, Table>)) {
    expect(name).toMatch(/^[a-z][a-z0-9_]*$/);
    for (const key of Object.keys(v)) expect(VARIABLE, `variables.${name}.${key}`).toContain(key);
  }
}

describe('spin.toml', () => {
  it('the package is spin.toml (manifest v2) beside a wasi:http/proxy component; outbound hosts in Spin\'s form', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wfn-spin-'));
    await writeFile(path.join(dir, 'hello.wasm'), await textFunction('hi'));
    const allow = ['https://api.example.com', 'http://127.0.0.1:3001', 'https://*.example.com', 'http://localhost:*'];
    const artifact = { ...(await artifactFrom({ kind: 'wasm', path: path.join(dir, 'hello.wasm') }, {})), name: 'hello-spin', projectDir: dir };
    const bundle = await adapter.package({ ...artifact, outbound: { ...artifact.outbound, allow } });
    expect(bundle.dir).toBe(path.join(dir, '.wfn', 'targets', 'spin'));
    expect(bundle.files.map((f) => f.path)).toEqual(['spin.toml', 'hello-spin.component.wasm']);
    const doc = parse(await readFile(path.join(bundle.dir, 'spin.toml'), 'utf8')) as Table;
    checkSchema(doc);
    const component = (doc.component as Record<string, Table>)['hello-spin'];
    expect(existsSync(path.join(bundle.dir, component.source as string))).toBe(true);
    expect(component.allowed_outbound_hosts).toEqual(allow);
    const world = await componentWorld(new Uint8Array(await readFile(path.join(bundle.dir, component.source as string))));
    expect(proxyWorldProblems(world)).toEqual([]);
  });

  it('wfn deploy --target spin --dry-run --json on a .wasm writes the package and says where', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wfn-spin-'));
    await writeFile(path.join(dir, 'hello.wasm'), await textFunction('hi'));
    const got = await wfn(['deploy', path.join(dir, 'hello.wasm'), '--target', 'spin', '--dry-run', '--json']);
    expect(got.code, got.stderr).toBe(0);
    const out = JSON.parse(got.stdout) as { target: string; bundle: { dir: string; files: { path: string }[] } };
    expect(out.target).toBe('spin');
    expect(out.bundle.files.map((f) => f.path)).toEqual(['spin.toml', 'hello.component.wasm']);
    checkSchema(parse(await readFile(path.join(out.bundle.dir, 'spin.toml'), 'utf8')) as Table);
  });

  it('escapes what it writes, declares secrets as secret variables, and makes ids Spin accepts', () => {
    const text = spinManifest({ id: spinId('My_Fn 2'), description: 'a "quoted"\nline', source: 'x.component.wasm', allowedOutboundHosts: [], secrets: ['API_KEY'] });
    const doc = parse(text) as Table;
    checkSchema(doc);
    expect((doc.application as Table).name).toBe('my-fn-2');
    expect((doc.application as Table).description).toBe('a "quoted"\nline');
    expect(doc.variables).toEqual({ api_key: { required: true, secret: true } });
    expect(spinId('123')).toBe('function');
    expect(spinId('--a--b--')).toBe('a-b');
  });

  it('deploy without --registry says how to ship the package', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wfn-spin-'));
    await writeFile(path.join(dir, 'hello.wasm'), await textFunction('hi'));
    const got = await wfn(['deploy', path.join(dir, 'hello.wasm'), '--target', 'spin']);
    expect(got.code).toBe(1);
    expect(got.stderr).toMatch(/Pass --registry to push/);
    expect(got.stderr).toMatch(/spin deploy --from/);
    expect(got.stderr).not.toMatch(/\n\s+at /);
  });

});

/** A loopback OCI registry that checks the distribution API's request shapes and keeps what it is sent. */
async function fakeRegistry(token: string) {
  const blobs = new Map<string, Buffer>();
  const manifests = new Map<string, { type: string; body: Buffer }>();
  const problems: string[] = [];
  const requests: string[] = [];
  let uploads = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push(`${req.method} ${url.pathname}`);
      if (req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401, { 'www-authenticate': 'Bearer realm="x"' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      let m: RegExpExecArray | null;
      if (req.method === 'HEAD' && (m = /^\/v2\/(.+)\/blobs\/(sha256:[0-9a-f]{64})$/.exec(url.pathname))) {
        res.writeHead(blobs.has(m[2]) ? 200 : 404).end();
      } else if (req.method === 'POST' && /^\/v2\/(.+)\/blobs\/uploads\/$/.test(url.pathname)) {
        uploads++;
        res.writeHead(202, { location: `${url.pathname}session-${uploads}?state=abc` }).end();
      } else if (req.method === 'PUT' && /^\/v2\/(.+)\/blobs\/uploads\/session-\d+$/.test(url.pathname)) {
        const digest = url.searchParams.get('digest') ?? '';
        if (url.searchParams.get('state') !== 'abc') problems.push('the upload URL\'s own query was dropped');
        const actual = `sha256:${createHash('sha256').update(body).digest('hex')}`;
        if (digest !== actual) {
          problems.push(`PUT digest ${digest} for content ${actual}`);
          res.writeHead(400).end();
          return;
        }
        blobs.set(digest, body);
        res.writeHead(201, { location: `/v2/x/blobs/${digest}` }).end();
      } else if (req.method === 'PUT' && (m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname))) {
        manifests.set(`${m[1]}:${m[2]}`, { type: String(req.headers['content-type']), body });
        res.writeHead(201, { 'docker-content-digest': `sha256:${createHash('sha256').update(body).digest('hex')}` }).end();
      } else {
        problems.push(`unexpected ${req.method} ${url.pathname}`);
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { port, blobs, manifests, problems, requests, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('--registry: the OCI layout `spin registry push` writes', () => {
  it('pushes the component and the locked app as layers, the image config and the manifest; the token comes from WFN_REGISTRY_TOKEN', async () => {
    const token = 'test-token-not-a-secret';
    const registry = await fakeRegistry(token);
    try {
      const dir = await mkdtemp(path.join(tmpdir(), 'wfn-spin-'));
      await writeFile(path.join(dir, 'hello.wasm'), await textFunction('hi'));
      const ref = `127.0.0.1:${registry.port}/you/hello:v1`;
      const denied = await wfn(['deploy', path.join(dir, 'hello.wasm'), '--target', 'spin', '--registry', ref], { env: { WFN_REGISTRY_TOKEN: 'wrong' } });
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(/The registry refused .*401/);
      expect(denied.stderr).toMatch(/WFN_REGISTRY_TOKEN/);
      expect(denied.stderr).not.toMatch(/wrong/);

      const got = await wfn(['deploy', path.join(dir, 'hello.wasm'), '--target', 'spin', '--registry', ref, '--json'], { env: { WFN_REGISTRY_TOKEN: token } });
      expect(got.code, got.stderr).toBe(0);
      expect(got.stdout + got.stderr).not.toContain(token);
      expect(registry.problems).toEqual([]);
      const pushed = registry.manifests.get('you/hello:v1');
      expect(pushed?.type).toBe('application/vnd.oci.image.manifest.v1+json');
      const manifest = JSON.parse(pushed!.body.toString()) as { schemaVersion: number; config: { mediaType: string; digest: string; size: number }; layers: { mediaType: string; digest: string; size: number }[] };
      expect(manifest.schemaVersion).toBe(2);
      expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
      expect(manifest.layers.map((l) => l.mediaType)).toEqual(['application/vnd.wasm.content.layer.v1+wasm', 'application/vnd.fermyon.spin.application.v1+config']);
      for (const d of [manifest.config, ...manifest.layers]) {
        expect(registry.blobs.get(d.digest)?.length, d.digest).toBe(d.size);
      }
      const component = registry.blobs.get(manifest.layers[0].digest)!;
      expect(proxyWorldProblems(await componentWorld(new Uint8Array(component)))).toEqual([]);
      const locked = JSON.parse(registry.blobs.get(manifest.layers[1].digest)!.toString()) as { spin_lock_version: number; triggers: { trigger_type: string; trigger_config: { route: string; component: string } }[]; components: { id: string; source: { content_type: string; digest: string } }[] };
      expect(locked.spin_lock_version).toBe(0);
      expect(locked.triggers).toEqual([{ id: 'trigger--hello', trigger_type: 'http', trigger_config: { route: '/...', component: 'hello' } }]);
      expect(locked.components[0]).toMatchObject({ id: 'hello', source: { content_type: 'application/wasm', digest: manifest.layers[0].digest } });
      const config = JSON.parse(registry.blobs.get(manifest.config.digest)!.toString()) as { architecture: string; os: string; config: { Labels: Record<string, string> } };
      expect(config).toMatchObject({ architecture: 'wasm', os: 'Wasip1', config: { Labels: { 'com.fermyon.spin.lockedAppDigest': manifest.layers[1].digest } } });
      const out = JSON.parse(got.stdout) as { deploy: { version: string } };
      expect(out.deploy.version).toBe(`sha256:${createHash('sha256').update(pushed!.body).digest('hex')}`);

      // Pushed again: the blobs are there (HEAD 200), only the manifest is sent.
      const before = registry.requests.length;
      const again = await wfn(['deploy', path.join(dir, 'hello.wasm'), '--target', 'spin', '--registry', ref], { env: { WFN_REGISTRY_TOKEN: token } });
      expect(again.code, again.stderr).toBe(0);
      expect(registry.requests.slice(before).filter((r) => !r.startsWith('HEAD'))).toEqual(['PUT /v2/you/hello/manifests/v1']);
    } finally {
      await registry.close();
    }
  });

  it('refuses a reference that is not host/name[:tag] before any request', () => {
    for (const bad of ['hello', 'ghcr.io/You/hello', 'ghcr.io/you/hello:bad tag', 'ftp://x/y', 'ghcr.io/']) {
      expect(() => parseRegistryRef(bad), bad).toThrow(UserError);
    }
    expect(parseRegistryRef('ghcr.io/you/hello')).toEqual({ base: 'https://ghcr.io', name: 'you/hello', tag: 'latest' });
    expect(parseRegistryRef('127.0.0.1:5000/a/b:v1')).toEqual({ base: 'http://127.0.0.1:5000', name: 'a/b', tag: 'v1' });
  });
});
