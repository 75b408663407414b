/**
 * Deploy through the Fastly API, against a local fake of the API on 127.0.0.1 that checks
 * the documented calls: their order, the Fastly-Key header, form and multipart bodies.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { adapter } from '../../../adapters/fastly/index.js';
import type { Artifact, Bundle } from '../../../src/target/types.js';
import { UserError } from '../../../src/util/errors.js';
import { watFixture } from './helpers.js';

const TOKEN = 'test-token-3f9a8c';

interface Seen {
  method: string;
  path: string;
  key?: string;
  contentType?: string;
  form?: Record<string, string>;
  packageBytes?: Buffer;
  packageName?: string;
}

/** A small stateful fake of the Fastly API. */
class FakeFastly {
  seen: Seen[] = [];
  services = new Map<string, { name: string; versions: { number: number; active: boolean; hashsum?: string; domains: string[] }[] }>();
  rejectAuth = false;
  private server = http.createServer((req, res) => void this.handle(req, res));
  url = '';

  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close() {
    return new Promise<void>((r) => this.server.close(() => r()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url!, 'http://x');
    const seen: Seen = { method: req.method!, path: url.pathname + url.search, key: req.headers['fastly-key'] as string, contentType: req.headers['content-type'] };
    if (seen.contentType?.startsWith('application/x-www-form-urlencoded')) seen.form = Object.fromEntries(new URLSearchParams(body.toString()));
    if (seen.contentType?.startsWith('multipart/form-data')) {
      const fd = await new Response(body, { headers: { 'content-type': seen.contentType } }).formData();
      const file = fd.get('package') as File | null;
      if (file) {
        seen.packageBytes = Buffer.from(await file.arrayBuffer());
        seen.packageName = file.name;
      }
    }
    this.seen.push(seen);
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (this.rejectAuth || seen.key !== TOKEN) return send(401, { msg: 'Provided credentials are missing or invalid' });

    const m = (re: RegExp) => re.exec(url.pathname);
    let g: RegExpExecArray | null;
    if (req.method === 'GET' && url.pathname === '/service/search') {
      const found = [...this.services].find(([, s]) => s.name === url.searchParams.get('name'));
      return found ? send(200, { id: found[0], name: found[1].name }) : send(404, { msg: 'Record not found', detail: 'Cannot find service' });
    }
    if (req.method === 'POST' && url.pathname === '/service') {
      if (seen.form?.type !== 'wasm') return send(400, { msg: 'Bad request', detail: 'type must be wasm' });
      const id = `SVC${this.services.size + 1}`;
      this.services.set(id, { name: seen.form.name, versions: [{ number: 1, active: false, domains: [] }] });
      return send(200, { id, name: seen.form.name, type: 'wasm', versions: [{ number: 1, active: false, locked: false }] });
    }
    const svc = (id: string) => this.services.get(id);
    if ((g = m(/^\/service\/(\w+)\/version$/)) && req.method === 'GET') {
      const s = svc(g[1]);
      return s ? send(200, s.versions.map((v) => ({ number: v.number, active: v.active }))) : send(404, { msg: 'Record not found' });
    }
    if ((g = m(/^\/service\/(\w+)\/version\/(\d+)\/(\w+)$/))) {
      const s = svc(g[1]);
      const v = s?.versions.find((x) => x.number === Number(g![2]));
      if (!s || !v) return send(404, { msg: 'Record not found' });
      const action = g[3];
      if (action === 'clone' && req.method === 'PUT') {
        const copy = { number: s.versions.length + 1, active: false, hashsum: v.hashsum, domains: [...v.domains] };
        s.versions.push(copy);
        return send(200, { number: copy.number, active: false });
      }
      if (action === 'domain' && req.method === 'POST') {
        v.domains.push(seen.form!.name);
        return send(200, { name: seen.form!.name, version: v.number });
      }
      if (action === 'domain' && req.method === 'GET') return send(200, v.domains.map((name) => ({ name })));
      if (action === 'package' && req.method === 'PUT') {
        if (!seen.packageBytes) return send(400, { msg: 'Bad request', detail: 'missing package' });
        v.hashsum = createHash('sha512').update(seen.packageBytes).digest('hex');
        return send(200, { service_id: g[1], version: v.number, metadata: { hashsum: v.hashsum, size: seen.packageBytes.length } });
      }
      if (action === 'package' && req.method === 'GET') return v.hashsum ? send(200, { metadata: { hashsum: v.hashsum } }) : send(404, { msg: 'Record not found' });
      if (action === 'activate' && req.method === 'PUT') {
        if (v.domains.length === 0) return send(400, { msg: 'Bad request', detail: 'a version needs a domain' });
        for (const x of s.versions) x.active = x === v;
        return send(200, { number: v.number, active: true });
      }
    }
    send(404, { msg: 'Record not found', detail: `${req.method} ${url.pathname}` });
  }
}

const fake = new FakeFastly();
let bundle: Bundle;
let artifact: Artifact;

beforeAll(async () => {
  await fake.start();
  const project = await mkdtemp(path.join(os.tmpdir(), 'wfn-fastly-deploy-'));
  const wasmPath = path.join(project, 'hello.wasm');
  await writeFile(wasmPath, await watFixture('misbehave.wat'));
  artifact = { name: 'hello', wasmPath, env: {}, secrets: [], limits: { memoryMiB: 128, timeoutMs: 10_000 }, projectDir: project };
  bundle = await adapter.package(artifact);
});

afterAll(() => fake.close());

const env = () => ({ FASTLY_API_TOKEN: TOKEN, FASTLY_API_ENDPOINT: fake.url });

describe('deploy to Fastly', () => {
  test('a first deploy creates the service, a domain on version 1, uploads the package and activates it', async () => {
    const logs: string[] = [];
    fake.seen = [];
    const result = await adapter.deploy(bundle, { env: env(), flags: {}, log: (m) => logs.push(m) });
    expect(fake.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'GET /service/search?name=hello',
      'POST /service',
      'POST /service/SVC1/version/1/domain',
      'PUT /service/SVC1/version/1/package',
      'PUT /service/SVC1/version/1/activate',
    ]);
    expect(fake.seen.every((s) => s.key === TOKEN)).toBe(true);
    expect(fake.seen[1].form).toMatchObject({ name: 'hello', type: 'wasm' });
    expect(fake.seen[2].form?.name).toMatch(/^hello-[0-9a-f]{8}\.edgecompute\.app$/);
    const upload = fake.seen[3];
    expect(upload.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(upload.packageName).toBe('hello.tar.gz');
    expect(Buffer.compare(upload.packageBytes!, await readFile(bundle.archive!))).toBe(0);
    expect(result).toMatchObject({ target: 'fastly', name: 'hello', version: 1, url: `https://${fake.seen[2].form!.name}/` });
    expect(JSON.stringify(logs)).not.toContain(TOKEN);
  });

  test('the same bytes again change nothing; new bytes clone the active version, upload and activate', async () => {
    fake.seen = [];
    const same = await adapter.deploy(bundle, { env: env(), flags: {}, log: () => {} });
    expect(same.unchanged).toBe(true);
    expect(fake.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'GET /service/SVC1/version',
      'GET /service/SVC1/version/1/package',
      'GET /service/SVC1/version/1/domain',
    ]);

    fake.seen = [];
    const changed = await adapter.package({ ...artifact, env: { GREETING: 'changed' } });
    const result = await adapter.deploy(changed, { env: env(), flags: { serviceId: 'SVC1' }, log: () => {} });
    expect(fake.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'GET /service/SVC1/version',
      'GET /service/SVC1/version/1/package',
      'PUT /service/SVC1/version/1/clone',
      'GET /service/SVC1/version/2/domain',
      'PUT /service/SVC1/version/2/package',
      'PUT /service/SVC1/version/2/activate',
    ]);
    expect(result.version).toBe(2);
    expect(result.unchanged).toBeFalsy();
    expect(result.url).toMatch(/^https:\/\/hello-[0-9a-f]{8}\.edgecompute\.app\/$/);
  });

  test('API errors carry Fastly\'s message and a hint, never the token', async () => {
    fake.rejectAuth = true;
    try {
      const error = await adapter.deploy(bundle, { env: env(), flags: {}, log: () => {} }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserError);
      const e = error as UserError;
      expect(e.message).toContain('HTTP 401');
      expect(e.message).toContain('Provided credentials are missing or invalid');
      expect(e.hint).toContain('FASTLY_API_TOKEN');
      expect(`${e.message}${e.hint}`).not.toContain(TOKEN);
    } finally {
      fake.rejectAuth = false;
    }
    const missing = await adapter.deploy(bundle, { env: {}, flags: {}, log: () => {} }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(UserError);
    expect((missing as UserError).message).toContain('FASTLY_API_TOKEN');
  });
});
