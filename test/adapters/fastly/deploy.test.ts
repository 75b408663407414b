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
import { DEFAULT_OUTBOUND } from '../../../src/runtime/outbound/abi.js';
import { UserError } from '../../../src/util/errors.js';
import { watFixture } from './helpers.js';

const TOKEN = 'test-token-3f9a8c';

interface Seen {
  method: string;
  path: string;
  key?: string;
  contentType?: string;
  form?: Record<string, string>;
  json?: Record<string, unknown>;
  packageBytes?: Buffer;
  packageName?: string;
}

/** A small stateful fake of the Fastly API. */
class FakeFastly {
  seen: Seen[] = [];
  services = new Map<string, { name: string; versions: { number: number; active: boolean; hashsum?: string; domains: string[]; resources: { resource_id: string; name: string }[] }[] }>();
  /** Secret stores: id -> name and secrets (base64, as the API stores them). */
  stores = new Map<string, { name: string; secrets: Map<string, string> }>();
  /** KV stores: id -> name. */
  kvStores = new Map<string, string>();
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
    if (seen.contentType?.startsWith('application/json')) seen.json = JSON.parse(body.toString()) as Record<string, unknown>;
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
    if (url.pathname === '/resources/stores/secret' && req.method === 'GET') {
      // Two stores per page: the client must follow next_cursor.
      const all = [...this.stores].map(([id, st]) => ({ id, name: st.name, created_at: '2026-01-01T00:00:00Z' }));
      const from = Number(url.searchParams.get('cursor') ?? 0);
      const next = from + 2 < all.length ? String(from + 2) : '';
      return send(200, { data: all.slice(from, from + 2), meta: { next_cursor: next, limit: 2 } });
    }
    if (url.pathname === '/resources/stores/secret' && req.method === 'POST') {
      const storeName = seen.json?.name;
      if (typeof storeName !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(storeName)) return send(400, { msg: 'Bad request', detail: 'invalid name' });
      if ([...this.stores.values()].some((st) => st.name === storeName)) return send(409, { msg: 'Conflict' });
      const id = `STORE${this.stores.size + 1}`;
      this.stores.set(id, { name: storeName, secrets: new Map() });
      return send(200, { id, name: storeName, created_at: '2026-01-01T00:00:00Z' });
    }
    if ((g = m(/^\/resources\/stores\/secret\/(\w+)\/secrets$/)) && req.method === 'PUT') {
      const st = this.stores.get(g[1]);
      if (!st) return send(404, { msg: 'Record not found' });
      const { name: secretName, secret } = seen.json ?? {};
      if (typeof secretName !== 'string' || typeof secret !== 'string' || Buffer.from(secret, 'base64').toString('base64') !== secret) {
        return send(400, { msg: 'Bad request', detail: 'name and a base64 secret are required' });
      }
      st.secrets.set(secretName, secret);
      return send(200, { name: secretName, digest: 'x', created_at: '2026-01-01T00:00:00Z' });
    }
    if (url.pathname === '/resources/stores/kv' && req.method === 'GET') {
      // Two stores per page, as for secret stores: the client must follow next_cursor.
      const limit = url.searchParams.get('limit');
      if (limit !== null && !/^\d+$/.test(limit)) return send(400, { msg: 'Bad request', detail: 'limit must be a number' });
      const all = [...this.kvStores].map(([id, name]) => ({ id, name, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' }));
      const from = Number(url.searchParams.get('cursor') ?? 0);
      const next = from + 2 < all.length ? String(from + 2) : '';
      return send(200, { data: all.slice(from, from + 2), meta: { next_cursor: next, limit: 2 } });
    }
    if (url.pathname === '/resources/stores/kv' && req.method === 'POST') {
      if (!seen.contentType?.startsWith('application/json')) return send(415, { msg: 'Unsupported media type' });
      const storeName = seen.json?.name;
      if (Object.keys(seen.json ?? {}).join() !== 'name' || typeof storeName !== 'string' || !/^[A-Za-z0-9_.-]{1,255}$/.test(storeName)) {
        return send(400, { msg: 'Bad request', detail: 'invalid name' });
      }
      if ([...this.kvStores.values()].includes(storeName)) return send(409, { msg: 'Conflict', detail: 'a store with this name exists' });
      const id = `KV${String(this.kvStores.size + 1).padStart(20, '0')}`;
      this.kvStores.set(id, storeName);
      return send(201, { id, name: storeName, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' });
    }
    if (req.method === 'POST' && url.pathname === '/service') {
      if (seen.form?.type !== 'wasm') return send(400, { msg: 'Bad request', detail: 'type must be wasm' });
      const id = `SVC${this.services.size + 1}`;
      this.services.set(id, { name: seen.form.name, versions: [{ number: 1, active: false, domains: [], resources: [] }] });
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
        const copy = { number: s.versions.length + 1, active: false, hashsum: v.hashsum, domains: [...v.domains], resources: [...v.resources] };
        s.versions.push(copy);
        return send(200, { number: copy.number, active: false });
      }
      if (action === 'domain' && req.method === 'POST') {
        v.domains.push(seen.form!.name);
        return send(200, { name: seen.form!.name, version: v.number });
      }
      if (action === 'domain' && req.method === 'GET') return send(200, v.domains.map((name) => ({ name })));
      if (action === 'resource' && req.method === 'GET') return send(200, v.resources.map((r) => ({ ...r, id: `LINK-${r.resource_id}`, service_id: g![1], version: v.number })));
      if (action === 'resource' && req.method === 'POST') {
        if (v.active) return send(400, { msg: 'Bad request', detail: 'the version is locked' });
        const { resource_id, name: linkName } = seen.form ?? {};
        if (!resource_id || !(this.stores.has(resource_id) || this.kvStores.has(resource_id)) || !linkName) return send(400, { msg: 'Bad request', detail: 'resource_id and name are required' });
        if (v.resources.some((r) => r.name === linkName)) return send(409, { msg: 'Conflict', detail: 'a resource is linked under this name' });
        v.resources.push({ resource_id, name: linkName });
        return send(200, { id: `LINK-${resource_id}`, resource_id, name: linkName, service_id: g[1], version: v.number });
      }
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
  artifact = { name: 'hello', wasmPath, env: {}, secrets: [], limits: { memoryMiB: 128, timeoutMs: 10_000 }, outbound: DEFAULT_OUTBOUND, projectDir: project };
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

describe('secrets on Fastly', () => {
  const CANARY = 'canary-secret-5b1e0c';

  test('are put into a secret store named after the function and linked to the version; never logged', async () => {
    // Three stores already (two per page): the client pages through to find none of them is ours.
    for (const n of ['a', 'b', 'c']) fake.stores.set(`OLD-${n}`, { name: `other-${n}`, secrets: new Map() });
    const withSecrets = await adapter.package({ ...artifact, name: 'keyed', secrets: ['API_KEY', 'OTHER'] });
    const logs: string[] = [];
    fake.seen = [];
    await adapter.deploy(withSecrets, { env: { ...env(), API_KEY: CANARY, OTHER: 'ünïcode' }, flags: {}, log: (m) => logs.push(m) });
    const calls = fake.seen.map((x) => `${x.method} ${x.path.replace(/\?.*$/, '')}`);
    expect(calls.slice(0, 5)).toEqual([
      'GET /resources/stores/secret',
      'GET /resources/stores/secret',
      'POST /resources/stores/secret',
      'PUT /resources/stores/secret/STORE4/secrets',
      'PUT /resources/stores/secret/STORE4/secrets',
    ]);
    expect(fake.seen[1].path).toContain('cursor=2');
    expect(fake.seen[2].json).toEqual({ name: 'wfn-keyed' });
    expect(fake.seen[3].json).toEqual({ name: 'API_KEY', secret: Buffer.from(CANARY).toString('base64') });
    expect(fake.seen[4].json).toEqual({ name: 'OTHER', secret: Buffer.from('ünïcode').toString('base64') });
    const link = fake.seen.find((x) => x.method === 'POST' && x.path.endsWith('/resource'));
    expect(link?.form).toEqual({ resource_id: 'STORE4', name: 'wfn-keyed' });
    expect(calls.indexOf('POST /service/SVC2/version/1/resource')).toBeLessThan(calls.indexOf('PUT /service/SVC2/version/1/activate'));
    expect(JSON.stringify(logs)).not.toContain(CANARY);
    expect(JSON.stringify(logs)).not.toContain(Buffer.from(CANARY).toString('base64'));

    // The same package again: nothing to upload, but the secret's new value goes into the store.
    fake.seen = [];
    const again = await adapter.deploy(withSecrets, { env: { ...env(), API_KEY: 'rotated', OTHER: 'x' }, flags: {}, log: () => {} });
    expect(again.unchanged).toBe(true);
    expect(fake.stores.get('STORE4')!.secrets.get('API_KEY')).toBe(Buffer.from('rotated').toString('base64'));
    expect(fake.seen.some((x) => x.method === 'POST' && x.path === '/resources/stores/secret')).toBe(false);
  });

  test('a secret missing from the environment stops the deploy before any API call', async () => {
    const withSecrets = await adapter.package({ ...artifact, name: 'keyed2', secrets: ['NOT_SET_ANYWHERE'] });
    fake.seen = [];
    const error = await adapter.deploy(withSecrets, { env: env(), flags: {}, log: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe('Secret NOT_SET_ANYWHERE not set in the environment.');
    expect(fake.seen).toEqual([]);
  });
});


describe('[kv] stores on Fastly', () => {
  test('a KV store per name is found or created, and linked under the store\'s name before activation', async () => {
    fake.seen = [];
    // an earlier store of this service ("sessions"), behind two of other accounts' pages
    fake.kvStores.set('OTHER1', 'someone-else-1');
    fake.kvStores.set('OTHER2', 'someone-else-2');
    fake.kvStores.set('EXISTING', 'wfn-kvfn-sessions');
    const wasmPath = path.join(path.dirname(artifact.wasmPath), 'kv.wasm');
    const { scriptWasm } = await import('../kv-script.js');
    await writeFile(wasmPath, await scriptWasm());
    const kvBundle = await adapter.package({ ...artifact, name: 'kvfn', wasmPath, kv: { stores: ['default', 'sessions'] } });
    const logs: string[] = [];
    const result = await adapter.deploy(kvBundle, { env: env(), flags: {}, log: (m) => logs.push(m) });
    const calls = fake.seen.map((s) => `${s.method} ${s.path}`);
    expect(calls.slice(0, 3)).toEqual(['GET /resources/stores/kv?limit=1000', 'GET /resources/stores/kv?limit=1000&cursor=2', 'POST /resources/stores/kv']);
    expect(fake.seen[2].json).toEqual({ name: 'wfn-kvfn-default' });
    const created = [...fake.kvStores].find(([, n]) => n === 'wfn-kvfn-default')![0];
    const svcId = (result.details as { serviceId: string }).serviceId;
    const links = fake.seen.filter((s) => s.method === 'POST' && s.path.endsWith('/resource')).map((s) => s.form);
    expect(links).toEqual([{ resource_id: created, name: 'default' }, { resource_id: 'EXISTING', name: 'sessions' }]);
    // linked before the package is activated
    expect(calls.indexOf(`POST /service/${svcId}/version/1/resource`)).toBeLessThan(calls.indexOf(`PUT /service/${svcId}/version/1/activate`));
    expect(result.details).toMatchObject({ kvStores: { default: created, sessions: 'EXISTING' } });
    expect(logs.join('\n')).toContain('creating the Fastly KV store "wfn-kvfn-default"');

    // again: nothing created, the same bytes and links change nothing
    fake.seen = [];
    const again = await adapter.deploy(kvBundle, { env: env(), flags: {}, log: () => {} });
    expect(again.unchanged).toBe(true);
    expect(fake.seen.filter((s) => s.method === 'POST')).toEqual([]);

    // a store removed from the version's links (by hand): a new version links it again
    fake.services.get(svcId)!.versions[0].resources = fake.services.get(svcId)!.versions[0].resources.filter((r) => r.name !== 'sessions');
    fake.seen = [];
    const relinked = await adapter.deploy(kvBundle, { env: env(), flags: {}, log: () => {} });
    expect(relinked.unchanged).toBeUndefined();
    expect(fake.seen.filter((s) => s.method === 'POST' && s.path.endsWith('/resource')).map((s) => s.form)).toEqual([{ resource_id: 'EXISTING', name: 'sessions' }]);
  });
});
