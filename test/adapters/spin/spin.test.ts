// The Spin target: `wfn deploy --target spin --dry-run` writes spin.toml beside the component;
// the manifest parses as TOML and has the fields of Spin's manifest version 2 with the values
// Spin requires (kebab-case ids, a route, a source that exists, outbound hosts in Spin's form).
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'smol-toml';
import { describe, expect, it, vi } from 'vitest';
import { adapter } from '../../../adapters/spin/index.js';
import { SPIN_ID, spinId, spinManifest } from '../../../adapters/spin/manifest.js';
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

  it('deploy without --dry-run says how to ship the package (wfn does not push Spin apps)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wfn-spin-'));
    await writeFile(path.join(dir, 'hello.wasm'), await textFunction('hi'));
    const got = await wfn(['deploy', path.join(dir, 'hello.wasm'), '--target', 'spin']);
    expect(got.code).toBe(1);
    expect(got.stderr).toMatch(/wfn does not push Spin apps itself/);
    expect(got.stderr).toMatch(/spin registry push --from/);
    expect(got.stderr).not.toMatch(/\n\s+at /);
  });
});
