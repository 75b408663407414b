// Deploy against a local fake of the Cloudflare API v4 that checks the documented request shapes
// (Workers script upload, workers.dev subdomain, Workers KV namespaces) and answers Cloudflare-shaped JSON.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifact, Bundle } from '../../../src/target/types.js';
import { adapter } from '../../../adapters/cloudflare/index.js';
import { CloudflareApiError, credentialsFrom, DEFAULT_API_BASE } from '../../../adapters/cloudflare/deploy.js';
import { UserError } from '../../../src/util/errors.js';
import { writeOnce } from '../../fixtures/contract.js';
import { wat2wasm } from '../../helpers/wat.js';
import { ACCOUNT, FakeCloudflare, TOKEN } from './fake-api.js';

let dir: string;
let wasmPath: string;
let base: string;
const fake = new FakeCloudflare();
const { seen, namespaces } = fake;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wfn-cf-deploy-'));
  wasmPath = path.join(dir, 'fn.wasm');
  await writeFile(wasmPath, await wat2wasm(writeOnce({ stdout: 'Content-Type: text/plain\n\nhi' })));
  await fake.start();
  base = fake.base;
});
afterAll(() => fake.close());

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
