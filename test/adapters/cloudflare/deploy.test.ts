// Deploy against a local fake of the Cloudflare API v4 that checks the documented request shapes
// (Workers script upload, workers.dev subdomain, Workers KV namespaces) and answers Cloudflare-shaped JSON.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifact, Bundle } from '../../../src/target/types.js';
import { adapter } from '../../../adapters/cloudflare/index.js';
import { CloudflareApiError, credentialsFrom, DEFAULT_API_BASE } from '../../../adapters/cloudflare/deploy.js';
import { parseMultipart, type Part } from '../../../adapters/cloudflare/multipart.js';
import { UserError } from '../../../src/util/errors.js';
import { writeOnce } from '../../fixtures/contract.js';
import { wat2wasm } from '../../helpers/wat.js';

const TOKEN = 'tok-abcdefghijklmnopqrstuvwxyz0123456789';
const ACCOUNT = '023e105f4ecef8ad9ca31a8372d0c353';

interface Seen {
  method: string;
  path: string;
  authorization?: string;
  contentType?: string;
  parts?: Part[];
  json?: unknown;
}

/** The account's Workers KV namespaces in the fake (listed 100 per page, in creation order). */
const namespaces: { id: string; title: string }[] = [];

/** Answers as api.cloudflare.com does; refuses anything off the documented shape with a 400. */
function fakeCloudflare(seen: Seen[]): Server {
  const envelope = (result: unknown) => JSON.stringify({ success: true, errors: [], messages: [], result });
  const failure = (code: number, message: string) => JSON.stringify({ success: false, errors: [{ code, message }], messages: [], result: null });
  return createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const entry: Seen = { method: req.method!, path: req.url!, authorization: req.headers.authorization, contentType: req.headers['content-type'] };
    seen.push(entry);
    const send = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': status === 502 ? 'text/html' : 'application/json' });
      res.end(text);
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(403, failure(10000, 'Authentication error'));
    const script = /^\/client\/v4\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)(\/subdomain)?$/.exec(req.url!);
    if (script && script[1] !== ACCOUNT) return send(404, failure(7003, 'Could not route to /accounts/x/workers/scripts, perhaps your object identifier is invalid?'));
    if (script && !script[3] && req.method === 'PUT') {
      if (!entry.contentType?.startsWith('multipart/form-data; boundary=')) return send(400, failure(10001, 'expected multipart/form-data'));
      entry.parts = parseMultipart(body, entry.contentType);
      const name = script[2];
      if (name === 'too-big') return send(400, failure(10027, 'Your Worker exceeded the size limit of 3 MiB.'));
      if (name === 'gateway') return send(502, '<html>bad gateway</html>');
      return send(200, envelope({ id: name, etag: 'e7c1a0d', modified_on: '2026-01-01T00:00:00Z' }));
    }
    if (script && script[3] && req.method === 'POST') {
      entry.json = JSON.parse(body.toString('utf8'));
      if (entry.contentType !== 'application/json') return send(400, failure(10001, 'expected JSON'));
      return send(200, envelope({ enabled: true, previews_enabled: false }));
    }
    if (req.url === `/client/v4/accounts/${ACCOUNT}/workers/subdomain` && req.method === 'GET') return send(200, envelope({ subdomain: 'wfn-team' }));
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === `/client/v4/accounts/${ACCOUNT}/storage/kv/namespaces`) {
      if (req.method === 'GET') {
        const page = Number(url.searchParams.get('page') ?? '1');
        const perPage = Number(url.searchParams.get('per_page') ?? '20');
        if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 5 || perPage > 100) return send(400, failure(10001, 'bad page or per_page'));
        const result = namespaces.slice((page - 1) * perPage, page * perPage).map((n) => ({ ...n, supports_url_encoding: true }));
        const info = { page, per_page: perPage, count: result.length, total_count: namespaces.length, total_pages: Math.max(1, Math.ceil(namespaces.length / perPage)) };
        return send(200, JSON.stringify({ success: true, errors: [], messages: [], result, result_info: info }));
      }
      if (req.method === 'POST') {
        if (entry.contentType !== 'application/json') return send(400, failure(10001, 'expected JSON'));
        const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        entry.json = json;
        if (Object.keys(json).join() !== 'title' || typeof json.title !== 'string' || json.title.length === 0 || json.title.length > 512) {
          return send(400, failure(10019, 'the namespace title is missing or invalid'));
        }
        if (namespaces.some((n) => n.title === json.title)) return send(400, failure(10014, 'a namespace with this account ID and title already exists'));
        const created = { id: `ns${String(namespaces.length + 1).padStart(30, '0')}`, title: json.title };
        namespaces.push(created);
        return send(200, envelope({ ...created, supports_url_encoding: true }));
      }
    }
    send(404, failure(7000, 'No route for that URI'));
  });
}

let dir: string;
let wasmPath: string;
let server: Server;
let base: string;
const seen: Seen[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wfn-cf-deploy-'));
  wasmPath = path.join(dir, 'fn.wasm');
  await writeFile(wasmPath, await wat2wasm(writeOnce({ stdout: 'Content-Type: text/plain\n\nhi' })));
  server = fakeCloudflare(seen);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4`;
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

function artifact(name: string, extra: Partial<Artifact> = {}): Artifact {
  return { name, wasmPath, env: { GREETING: 'hello' }, secrets: [], limits: { memoryMiB: 16, timeoutMs: 5000 }, projectDir: path.join(dir, name), ...extra };
}

const env = (extra: Record<string, string> = {}) => ({ CLOUDFLARE_API_TOKEN: TOKEN, CLOUDFLARE_ACCOUNT_ID: ACCOUNT, CLOUDFLARE_API_BASE_URL: base, ...extra });

async function filesOf(bundle: Bundle): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const f of bundle.files) out.set(f.path, await readFile(path.join(bundle.dir, f.path)));
  return out;
}

describe('cloudflare deploy', () => {
  it('finds or creates a Workers KV namespace per [kv] store and binds each in the metadata', async () => {
    namespaces.length = 0;
    // 150 namespaces of others, then the one of "sessions" from an earlier deploy: on page 2
    for (let i = 0; i < 150; i++) namespaces.push({ id: `other${i}`, title: `someone-else-${i}` });
    namespaces.push({ id: 'existing-sessions-id', title: 'wfn-kv-deploy-sessions' });
    seen.length = 0;
    const bundle = await adapter.package(artifact('kv-deploy', { kv: { stores: ['default', 'sessions'] } }));
    const logs: string[] = [];
    const result = await adapter.deploy(bundle, { env: env(), flags: {}, log: (m) => logs.push(m) });
    const kvPath = `/client/v4/accounts/${ACCOUNT}/storage/kv/namespaces`;
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      `GET ${kvPath}?page=1&per_page=100`,
      `GET ${kvPath}?page=2&per_page=100`,
      `POST ${kvPath}`,
      `PUT /client/v4/accounts/${ACCOUNT}/workers/scripts/kv-deploy`,
      `POST /client/v4/accounts/${ACCOUNT}/workers/scripts/kv-deploy/subdomain`,
      `GET /client/v4/accounts/${ACCOUNT}/workers/subdomain`,
    ]);
    expect(seen[2].json).toEqual({ title: 'wfn-kv-deploy-default' });
    const created = namespaces.find((n) => n.title === 'wfn-kv-deploy-default')!;
    const metadata = JSON.parse(Buffer.from(seen[3].parts![0].data).toString('utf8'));
    expect(metadata.bindings).toEqual([
      { type: 'plain_text', name: 'GREETING', text: 'hello' },
      { type: 'kv_namespace', name: 'default', namespace_id: created.id },
      { type: 'kv_namespace', name: 'sessions', namespace_id: 'existing-sessions-id' },
    ]);
    expect(result.details).toMatchObject({ kvNamespaces: { default: created.id, sessions: 'existing-sessions-id' } });
    expect(logs.join('\n')).toContain('creating the Workers KV namespace "wfn-kv-deploy-default"');

    // deployed again: both are found, nothing is created
    seen.length = 0;
    await adapter.deploy(bundle, { env: env(), flags: {}, log: () => {} });
    expect(seen.filter((s) => s.method === 'POST' && s.path === kvPath)).toEqual([]);
    expect(namespaces.filter((n) => n.title.startsWith('wfn-kv-deploy-'))).toHaveLength(2);
  });

  it('says what Cloudflare answered when the namespaces cannot be read, and which permission a token needs', async () => {
    namespaces.length = 0;
    const bundle = await adapter.package(artifact('kv-bad', { kv: { stores: ['default'] } }));
    const error = await adapter.deploy(bundle, { env: env({ CLOUDFLARE_API_TOKEN: 'wrong' }), flags: {}, log: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CloudflareApiError);
    expect((error as Error).message).toBe('Cloudflare API: list the Workers KV namespaces failed: Authentication error [code 10000]');
    expect((error as UserError).hint).toContain('Workers KV Storage: Edit');
    expect(namespaces).toEqual([]);
  });

  it('uploads the dry-run bundle byte for byte, enables workers.dev and returns the URL', async () => {
    seen.length = 0;
    const bundle = await adapter.package(artifact('hello-deploy')); // what --dry-run writes
    const files = await filesOf(bundle);
    const logs: string[] = [];
    const result = await adapter.deploy(bundle, { env: env(), flags: {}, log: (m) => logs.push(m) });

    expect(result).toMatchObject({ target: 'cloudflare', name: 'hello-deploy', url: 'https://hello-deploy.wfn-team.workers.dev' });
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      `PUT /client/v4/accounts/${ACCOUNT}/workers/scripts/hello-deploy`,
      `POST /client/v4/accounts/${ACCOUNT}/workers/scripts/hello-deploy/subdomain`,
      `GET /client/v4/accounts/${ACCOUNT}/workers/subdomain`,
    ]);
    for (const s of seen) expect(s.authorization).toBe(`Bearer ${TOKEN}`);

    const parts = seen[0].parts!;
    expect(parts.map((p) => [p.name, p.filename, p.contentType])).toEqual([
      ['metadata', undefined, 'application/json'],
      ['worker.js', 'worker.js', 'application/javascript+module'],
      ['hello-deploy.wasm', 'hello-deploy.wasm', 'application/wasm'],
    ]);
    expect(Buffer.compare(Buffer.from(parts[0].data), files.get('metadata.json')!)).toBe(0);
    expect(Buffer.compare(Buffer.from(parts[1].data), files.get('worker.js')!)).toBe(0);
    expect(Buffer.compare(Buffer.from(parts[2].data), files.get('hello-deploy.wasm')!)).toBe(0);
    const metadata = JSON.parse(Buffer.from(parts[0].data).toString('utf8'));
    expect(metadata.main_module).toBe('worker.js');
    expect(metadata.compatibility_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(metadata.bindings).toEqual([{ type: 'plain_text', name: 'GREETING', text: 'hello' }]);
    expect(seen[1].json).toEqual({ enabled: true });
    expect(logs.join('\n')).not.toContain(TOKEN);
  });

  it('sends secrets as secret_text bindings read from the environment at deploy time only', async () => {
    seen.length = 0;
    const value = 'very-secret-value-91c2';
    const bundle = await adapter.package(artifact('with-secret', { secrets: ['API_KEY'] }));
    const before = await filesOf(bundle);
    await adapter.deploy(bundle, { env: env({ API_KEY: value }), flags: {}, log: () => {} });
    const parts = seen[0].parts!;
    const metadata = JSON.parse(Buffer.from(parts[0].data).toString('utf8'));
    expect(metadata.bindings).toEqual([
      { type: 'plain_text', name: 'GREETING', text: 'hello' },
      { type: 'secret_text', name: 'API_KEY', text: value },
    ]);
    // the code parts are still the bundle's bytes, and no bundle file holds the value
    expect(Buffer.compare(Buffer.from(parts[1].data), before.get('worker.js')!)).toBe(0);
    expect(Buffer.compare(Buffer.from(parts[2].data), before.get('with-secret.wasm')!)).toBe(0);
    const after = await filesOf(bundle);
    for (const [name, b] of after) {
      expect(b.includes(value), name).toBe(false);
      expect(b.equals(before.get(name)!), name).toBe(true);
    }
  });

  it('refuses to deploy when a secret is not set', async () => {
    const bundle = await adapter.package(artifact('missing-secret', { secrets: ['NOT_SET_ANYWHERE'] }));
    await expect(adapter.deploy(bundle, { env: env(), flags: {}, log: () => {} })).rejects.toThrow(/NOT_SET_ANYWHERE not set/);
  });

  it('shows Cloudflare\'s code and message with an auth hint, and never the token', async () => {
    const bundle = await adapter.package(artifact('auth-fail'));
    const wrong = 'wrong-token-shhh-123';
    const error = await adapter.deploy(bundle, { env: env({ CLOUDFLARE_API_TOKEN: wrong }), flags: {}, log: () => {} }).catch((e) => e);
    expect(error).toBeInstanceOf(CloudflareApiError);
    expect(error.message).toContain('Authentication error [code 10000]');
    expect(error.message).toContain('upload Worker');
    expect(error.hint).toMatch(/CLOUDFLARE_API_TOKEN/);
    expect(`${error.message} ${error.hint}`).not.toContain(wrong);
  });

  it('gives hints for a wrong account and for a Worker over the size limit', async () => {
    const wrongAccount = await adapter
      .deploy(await adapter.package(artifact('acct')), { env: env({ CLOUDFLARE_ACCOUNT_ID: 'ffffffffffffffffffffffffffffffff' }), flags: {}, log: () => {} })
      .catch((e) => e);
    expect(wrongAccount.message).toContain('[code 7003]');
    expect(wrongAccount.hint).toMatch(/CLOUDFLARE_ACCOUNT_ID/);

    const tooBig = await adapter.deploy(await adapter.package(artifact('too-big')), { env: env(), flags: {}, log: () => {} }).catch((e) => e);
    expect(tooBig.message).toContain('Your Worker exceeded the size limit of 3 MiB. [code 10027]');
    expect(tooBig.hint).toMatch(/3 MB compressed on the free plan, 10 MB on paid/);

    const gateway = await adapter.deploy(await adapter.package(artifact('gateway')), { env: env(), flags: {}, log: () => {} }).catch((e) => e);
    expect(gateway).toBeInstanceOf(UserError);
    expect(gateway.message).toMatch(/HTTP 502, not a Cloudflare API answer/);
  });

  it('needs both credentials and defaults to the public API base', async () => {
    expect(() => credentialsFrom({ CLOUDFLARE_ACCOUNT_ID: ACCOUNT })).toThrow(/CLOUDFLARE_API_TOKEN/);
    expect(() => credentialsFrom({ CLOUDFLARE_API_TOKEN: TOKEN })).toThrow(/CLOUDFLARE_ACCOUNT_ID/);
    expect(credentialsFrom({ CLOUDFLARE_API_TOKEN: TOKEN, CLOUDFLARE_ACCOUNT_ID: ACCOUNT }).baseUrl).toBe(DEFAULT_API_BASE);
    const bundle = await adapter.package(artifact('bad-name-'));
    await expect(adapter.deploy(bundle, { env: env(), flags: {}, log: () => {} })).rejects.toThrow(/not a valid Cloudflare Worker name/);
  });
});
