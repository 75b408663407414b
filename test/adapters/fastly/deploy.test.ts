/**
 * Deploy through the Fastly API, against a local fake of the API on 127.0.0.1 that checks
 * the documented calls: their order, the Fastly-Key header, form and multipart bodies.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { adapter } from '../../../adapters/fastly/index.js';
import type { Artifact, Bundle } from '../../../src/target/types.js';
import { DEFAULT_OUTBOUND } from '../../../src/runtime/outbound/abi.js';
import { UserError } from '../../../src/util/errors.js';
import { watFixture } from './helpers.js';
import { FakeFastly, TOKEN } from './fake-api.js';

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
