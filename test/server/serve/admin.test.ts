// The admin API over HTTP: deploy, list, get, delete, roll back; auth failures change nothing;
// refusals (bad wasm 400, too large 413); routing; per-function environment; restart persistence.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BAD_IMPORT_WAT, ENV_DUMP_WAT } from '../../fixtures/contract.js';
import { request } from '../../helpers/http.js';
import { wat2wasm } from '../../helpers/wat.js';
import { admin, deploy, startTestServe, textFunction, TOKEN, type TestServer } from './helpers.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function snapshotDir(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const sub of ['functions', 'blobs']) {
    for (const f of (await readdir(path.join(dir, sub))).sort()) out[`${sub}/${f}`] = sha(await readFile(path.join(dir, sub, f)));
  }
  return out;
}

describe('wfn serve admin API', () => {
  let server: TestServer;
  let v1: Uint8Array;
  let v2: Uint8Array;
  let v3: Uint8Array;

  beforeAll(async () => {
    server = await startTestServe({ maxBodyBytes: 256 * 1024 });
    [v1, v2, v3] = await Promise.all([textFunction('one'), textFunction('two'), textFunction('three')]);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('deploys, serves, lists, gets, rolls back and deletes', async () => {
    const put1 = await deploy(server.url, 'hello', v1, { env: { A: '1' }, limits: { memoryMiB: 16, timeoutMs: 2000 } });
    expect(put1.status).toBe(201);
    expect(put1.json).toMatchObject({ name: 'hello', version: 1, sha256: sha(v1), size: v1.length, unchanged: false, url: '/hello/' });
    expect((await request(`${server.url}/hello/`)).body.toString()).toBe('one');

    // Same bytes and config again: nothing changes.
    const again = await deploy(server.url, 'hello', v1, { env: { A: '1' }, limits: { memoryMiB: 16, timeoutMs: 2000 } });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ version: 1, unchanged: true });

    // A bare application/wasm body works too (config = the server's defaults).
    const put2 = await admin(server.url, 'functions/hello', { method: 'PUT', body: v2, headers: [['content-type', 'application/wasm']] });
    expect(put2.status).toBe(201);
    expect(put2.json.version).toBe(2);
    expect(put2.json.config).toEqual({ env: {}, limits: { memoryMiB: 64, timeoutMs: 5000 } });
    expect((await request(`${server.url}/hello/x`)).body.toString()).toBe('two');
    expect((await deploy(server.url, 'other', v3)).status).toBe(201);

    const list = await admin(server.url, 'functions');
    expect(list.status).toBe(200);
    expect(list.json.functions.map((f: { name: string; version: number; sha256: string }) => [f.name, f.version, f.sha256])).toEqual([
      ['hello', 2, sha(v2)],
      ['other', 1, sha(v3)],
    ]);

    const got = await admin(server.url, 'functions/hello');
    expect(got.status).toBe(200);
    expect(got.json).toMatchObject({ name: 'hello', current: 2, sha256: sha(v2), serving: 2, manifest: { version: 2, sha256: sha(v2), size: v2.length } });
    expect(got.json.versions.map((v: { version: number; sha256: string }) => [v.version, v.sha256])).toEqual([
      [1, sha(v1)],
      [2, sha(v2)],
    ]);
    expect(got.json.versions[0].config).toEqual({ env: { A: '1' }, limits: { memoryMiB: 16, timeoutMs: 2000 } });

    const back = await admin(server.url, 'functions/hello/rollback', { method: 'POST' });
    expect(back.status).toBe(200);
    expect(back.json).toMatchObject({ version: 1, from: 2, sha256: sha(v1) });
    expect((await request(`${server.url}/hello/`)).body.toString()).toBe('one');
    // Nothing before version 1.
    expect((await admin(server.url, 'functions/hello/rollback', { method: 'POST' })).status).toBe(409);
    // Forward again to a named version.
    expect((await admin(server.url, 'functions/hello/rollback?version=2', { method: 'POST' })).json.version).toBe(2);
    expect((await request(`${server.url}/hello/`)).body.toString()).toBe('two');
    expect((await admin(server.url, 'functions/hello/rollback?version=9', { method: 'POST' })).status).toBe(404);

    expect((await admin(server.url, 'functions/hello', { method: 'DELETE' })).status).toBe(204);
    expect((await request(`${server.url}/hello/`)).status).toBe(404);
    expect((await admin(server.url, 'functions/hello')).status).toBe(404);
    expect((await admin(server.url, 'functions/hello', { method: 'DELETE' })).status).toBe(404);
    expect((await admin(server.url, 'functions')).json.functions.map((f: { name: string }) => f.name)).toEqual(['other']);
    // The deleted function's modules are gone from the store; the other's stays.
    expect(Object.keys(await snapshotDir(server.dataDir)).sort()).toEqual([`blobs/${sha(v3)}.wasm`, 'functions/other.json']);
  });

  it('a missing or wrong token is 401 and changes nothing', async () => {
    await deploy(server.url, 'guarded', v1);
    const before = await snapshotDir(server.dataDir);
    const attempts = [
      await deploy(server.url, 'guarded', v2, undefined, null),
      await deploy(server.url, 'guarded', v2, undefined, 'wrong'),
      await deploy(server.url, 'guarded', v2, undefined, TOKEN + 'x'),
      await deploy(server.url, 'intruder', v2, undefined, ''),
      await admin(server.url, 'functions/guarded', { method: 'DELETE', token: 'wrong' }),
      await admin(server.url, 'functions/guarded/rollback', { method: 'POST', token: null }),
      await admin(server.url, 'functions/guarded', { method: 'DELETE', headers: [['authorization', `Basic ${TOKEN}`]], token: null }),
      await admin(server.url, 'functions', { token: 'nope' }),
      await admin(server.url, 'metrics', { token: null }),
    ];
    for (const res of attempts) {
      expect(res.status).toBe(401);
      expect(res.headers).toContainEqual(['www-authenticate', 'Bearer realm="wfn"']);
    }
    expect(await snapshotDir(server.dataDir)).toEqual(before);
    expect((await request(`${server.url}/guarded/`)).body.toString()).toBe('one');
    expect((await request(`${server.url}/intruder/`)).status).toBe(404);
    // Health stays open (load balancers and probes have no token).
    expect((await admin(server.url, 'health', { token: null })).json).toMatchObject({ status: 'ok', store: 'file' });
  });

  it('refuses non-conforming modules (400 with the reason), oversize uploads (413) and bad input', async () => {
    const before = await snapshotDir(server.dataDir);
    const bad = await deploy(server.url, 'bad', await wat2wasm(BAD_IMPORT_WAT));
    expect(bad.status).toBe(400);
    expect(bad.json.error).toMatch(/env.*abort|abort.*env/);
    const garbage = await admin(server.url, 'functions/bad', { method: 'PUT', body: new TextEncoder().encode('not wasm'), headers: [['content-type', 'application/wasm']] });
    expect(garbage.status).toBe(400);
    expect(garbage.json.error).toMatch(/not a valid WebAssembly module/);
    const huge = new Uint8Array(300 * 1024);
    const tooLarge = await admin(server.url, 'functions/big', { method: 'PUT', body: huge, headers: [['content-type', 'application/wasm']] });
    expect(tooLarge.status).toBe(413);
    expect((await deploy(server.url, 'big', huge)).status).toBe(413);
    expect((await deploy(server.url, 'Bad_Name', v1)).status).toBe(400);
    expect((await deploy(server.url, 'cfg', v1, { limits: { memoryMiB: 0 } })).json.error).toMatch(/memoryMiB/);
    expect((await deploy(server.url, 'cfg', v1, { enviroment: {} })).json.error).toMatch(/unknown config key "enviroment"/);
    expect((await admin(server.url, 'functions/cfg', { method: 'PUT', body: v1, headers: [['content-type', 'text/plain']] })).status).toBe(415);
    expect((await admin(server.url, 'functions', { method: 'POST' })).status).toBe(405);
    expect((await admin(server.url, 'nothing')).status).toBe(404);
    expect(await snapshotDir(server.dataDir)).toEqual(before);
    expect((await request(`${server.url}/bad/`)).status).toBe(404);
  });

  it('routes /<name>/... with SCRIPT_NAME and PATH_INFO, each function with its own environment', async () => {
    const dump = await wat2wasm(ENV_DUMP_WAT);
    await deploy(server.url, 'env-a', dump, { env: { WHO: 'a', REQUEST_METHOD: 'spoofed' } });
    await deploy(server.url, 'env-b', dump, { env: { WHO: 'b' } });
    const vars = async (url: string) => Object.fromEntries((await request(url)).body.toString().split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const a = await vars(`${server.url}/env-a/x/y%20z?q=1`);
    expect(a).toMatchObject({ WHO: 'a', SCRIPT_NAME: '/env-a', PATH_INFO: '/x/y z', X_RAW_PATH_INFO: '/x/y%20z', QUERY_STRING: 'q=1', REQUEST_METHOD: 'GET', X_MATCHED_ROUTE: '/env-a' });
    const b = await vars(`${server.url}/env-b`);
    expect(b).toMatchObject({ WHO: 'b', SCRIPT_NAME: '/env-b', PATH_INFO: '' });
    expect((await request(`${server.url}/`)).status).toBe(404);
    expect((await request(`${server.url}/no-such/`)).status).toBe(404);
    expect((await request(`${server.url}/_other`)).status).toBe(404);
    // One access-log line per request.
    expect(server.access.some((l) => l.startsWith('GET /env-a/x/y%20z?q=1 200 '))).toBe(true);
  });

  it('parallel deploys and deletes of one function end with what the store says being served', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => `race ${i}`);
    const modules = await Promise.all(bodies.map((b) => textFunction(b)));
    const results = await Promise.all([
      ...modules.map((m) => deploy(server.url, 'race', m)),
      admin(server.url, 'functions/race', { method: 'DELETE' }),
      admin(server.url, 'functions/race', { method: 'DELETE' }),
    ]);
    expect(results.slice(0, 8).every((r) => r.status === 201)).toBe(true);
    const got = await admin(server.url, 'functions/race');
    const served = await request(`${server.url}/race/`);
    if (got.status === 404) expect(served.status).toBe(404);
    else {
      expect(got.json.serving).toBe(got.json.current);
      expect(served.body.toString()).toBe(bodies[modules.findIndex((m) => sha(m) === got.json.sha256)]);
    }
  });

  it('reports Prometheus metrics', async () => {
    const res = await admin(server.url, 'metrics');
    expect(res.status).toBe(200);
    expect(res.headers).toContainEqual(['content-type', 'text/plain; version=0.0.4; charset=utf-8']);
    const text = res.body.toString();
    expect(text).toMatch(/^wfn_requests_total\{function="env-a",status="200"\} 1$/m);
    expect(text).toMatch(/^wfn_request_duration_seconds_bucket\{function="env-a",le="\+Inf"\} 1$/m);
    expect(text).toMatch(/^wfn_instantiate_seconds_count\{function="env-a"\} 1$/m);
    expect(text).toMatch(/^wfn_timeouts_total\{function="env-a"\} 0$/m);
    expect(text).toMatch(/^wfn_deploys_total\{result="rejected"\} \d+$/m);
    expect(text).toMatch(/^wfn_admin_requests_total\{route="functions\/:name",status="401"\} \d+$/m);
  });

  it('keeps functions, versions and environment across a restart', async () => {
    const dir = server.dataDir;
    await deploy(server.url, 'keep', v1, { env: { K: 'v' } });
    await deploy(server.url, 'keep', v2, { env: { K: 'v' } });
    await admin(server.url, 'functions/keep/rollback', { method: 'POST' });
    const before = (await admin(server.url, 'functions')).json;
    await server.close();
    server = await startTestServe({ dataDir: dir });
    expect((await admin(server.url, 'functions')).json).toEqual(before);
    expect((await request(`${server.url}/keep/`)).body.toString()).toBe('one');
    expect((await admin(server.url, 'functions/keep')).json.versions.length).toBe(2);
    expect((await request(`${server.url}/env-b/`)).body.toString()).toContain('WHO=b');
  });
});

describe('the multipart reader of the deploy upload', () => {
  it('reads curl-style bodies: quoted boundary, parts without Content-Type, binary bytes', async () => {
    const { parseMultipart } = await import('../../../src/server/serve/multipart.js');
    const wasm = Buffer.from([0, 0x61, 0x73, 0x6d, 13, 10, 45, 45, 1, 0, 0, 0]); // contains "\r\n--"
    const b = '------------------------d74496d66958873e';
    const body = Buffer.concat([
      Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="config"\r\n\r\n{"env":{"A":"1"}}\r\n`),
      Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="wasm"; filename="hello.wasm"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      wasm,
      Buffer.from(`\r\n--${b}--\r\n`),
    ]);
    const parts = parseMultipart(body, `multipart/form-data; boundary="${b}"`);
    expect(parts.map((p) => [p.name, p.filename, p.contentType])).toEqual([
      ['config', undefined, undefined],
      ['wasm', 'hello.wasm', 'application/octet-stream'],
    ]);
    expect(parts[0].body.toString()).toBe('{"env":{"A":"1"}}');
    expect(Buffer.compare(parts[1].body, wasm)).toBe(0);
    expect(() => parseMultipart(body.subarray(0, body.length - 10), `multipart/form-data; boundary=${b}`)).toThrow(/ends inside a part/);
    expect(() => parseMultipart(body, 'multipart/form-data')).toThrow(/boundary/);
  });
});
