// `wfn dev --target lambda`: the local Function URL gateway running the packaged zip.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifact, Emulator } from '../../../src/target/types.js';
import { adapter } from '../../../adapters/lambda/index.js';
import { ENV_DUMP_WAT, writeOnce } from '../../fixtures/contract.js';
import { request } from '../../helpers/http.js';
import { wat2wasm } from '../../helpers/wat.js';

/** GET answers "alive"; a request with a body makes it loop forever. */
const RUNAWAY_ON_BODY_WAT = `(module
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 2048) "Content-Type: text/plain\\n\\nalive")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 1024))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    (if (i32.gt_u (i32.load (i32.const 8)) (i32.const 0)) (then (loop $forever (br $forever))))
    (i32.store (i32.const 0) (i32.const 2048))
    (i32.store (i32.const 4) (i32.const 31))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`;

let work: string;
const emulators: Emulator[] = [];

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'wfn-lambda-emu-'));
});
afterAll(async () => {
  await Promise.all(emulators.map((e) => e.close()));
});

async function start(name: string, wat: string, more: Partial<Artifact> = {}): Promise<{ emulator: Emulator; lines: string[] }> {
  const wasmPath = path.join(work, `${name}.wasm`);
  await writeFile(wasmPath, await wat2wasm(wat));
  const bundle = await adapter.package({ name, wasmPath, env: {}, secrets: [], limits: { memoryMiB: 32, timeoutMs: 1000 }, ...more });
  const lines: string[] = [];
  const emulator = await adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: (line) => lines.push(line) });
  emulators.push(emulator);
  return { emulator, lines };
}

const ACCESS_LINE = /^(GET|POST) (\S+) (\d{3}) (\d+)B inst=\d+µs run=[\d.]+ms total=([\d.]+)ms/;

describe('lambda emulator', () => {
  it('a runaway invocation gets a 504 within the timeout, the sandbox is replaced, the gateway keeps answering', async () => {
    const { emulator, lines } = await start('emu-runaway', RUNAWAY_ON_BODY_WAT, { limits: { memoryMiB: 32, timeoutMs: 3000 } });
    expect((await request(emulator.url)).body.toString()).toBe('alive');

    const t0 = performance.now();
    let runawayDone = false;
    const runaway = request(emulator.url, { method: 'POST', body: new TextEncoder().encode('spin'), timeoutMs: 10_000 }).finally(() => (runawayDone = true));
    // While one sandbox spins, another one answers.
    await new Promise((r) => setTimeout(r, 200));
    const during = await request(emulator.url, { timeoutMs: 10_000 });
    expect([during.status, during.body.toString()]).toEqual([200, 'alive']);
    expect(runawayDone).toBe(false);

    const timedOut = await runaway;
    const elapsed = performance.now() - t0;
    expect(timedOut.status).toBe(504);
    expect(timedOut.body.toString()).toBe('504 Gateway Timeout\n');
    // Not before its timeout (3 s); after it, a bound that only catches a hang (the client's 10 s would fail the request).
    expect(elapsed).toBeGreaterThanOrEqual(2990);
    expect(elapsed).toBeLessThan(9_000);

    // Again: each runaway costs its sandbox, never the gateway.
    const second = await request(emulator.url, { method: 'POST', body: new TextEncoder().encode('spin'), timeoutMs: 10_000 });
    expect(second.status).toBe(504);
    const after = await request(emulator.url, { timeoutMs: 10_000 });
    expect([after.status, after.body.toString()]).toEqual([200, 'alive']);

    const access = lines.filter((l) => ACCESS_LINE.test(l));
    expect(access).toHaveLength(5); // one line per request
    expect(access.filter((l) => / 504 .* timeout: Task timed out after 3\.00 seconds/.test(l))).toHaveLength(2);
    expect(lines.filter((l) => l.startsWith('lambda: cold start')).length).toBeGreaterThanOrEqual(2);
  });

  it('the function sees the Function URL request: configured variables, cookies, forwarded headers', async () => {
    const { emulator, lines } = await start('emu-env', ENV_DUMP_WAT, { env: { GREETING: 'hello from the Lambda configuration' } });
    const res = await request(`${emulator.url}some/path?a=1&b=two`, { headers: [['cookie', 'a=1; b=2'], ['x-custom', 'one'], ['x-custom', 'two']] });
    expect(res.status).toBe(200);
    expect(res.headers).toContainEqual(['x-wfn-target', 'lambda']);
    const env = Object.fromEntries(res.body.toString().trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const port = new URL(emulator.url).port;
    expect(env).toMatchObject({
      GREETING: 'hello from the Lambda configuration',
      REQUEST_METHOD: 'GET',
      PATH_INFO: '/some/path',
      QUERY_STRING: 'a=1&b=two',
      X_FULL_URL: `http://127.0.0.1:${port}/some/path?a=1&b=two`,
      SERVER_PORT: port,
      REMOTE_ADDR: '127.0.0.1',
      HTTP_COOKIE: 'a=1; b=2',
      HTTP_X_CUSTOM: 'one,two', // Lambda joins repeated request headers with ","
      HTTP_X_FORWARDED_PROTO: 'http',
      HTTP_X_FORWARDED_FOR: '127.0.0.1',
    });
    // Lambda's own variables are not the function's: the handler passes only configured ones.
    expect(env.AWS_LAMBDA_FUNCTION_NAME).toBeUndefined();
    expect(lines.filter((l) => ACCESS_LINE.test(l))).toEqual([expect.stringMatching(/^GET \/some\/path\?a=1&b=two 200 \d+B /)]);
  });

  it("the function's stderr reaches the log; oversized requests get Lambda's 413", async () => {
    const { emulator, lines } = await start('emu-stderr', writeOnce({ stdout: 'Content-Type: text/plain\n\nok', stderr: 'note from the function\n' }));
    expect((await request(emulator.url)).body.toString()).toBe('ok');
    await expect.poll(() => lines).toContainEqual('note from the function');

    const big = new Uint8Array(6 * 1024 * 1024 + 1);
    const tooLarge = await request(emulator.url, { method: 'POST', body: big, headers: [['content-type', 'application/octet-stream']] });
    expect(tooLarge.status).toBe(413);
    // Base64 makes 5 MB of binary a 6.7 MB event: over the payload limit too.
    const encodedTooLarge = await request(emulator.url, { method: 'POST', body: new Uint8Array(5 * 1024 * 1024), headers: [['content-type', 'application/octet-stream']] });
    expect(encodedTooLarge.status).toBe(413);
    expect((await request(emulator.url)).status).toBe(200);
  });

  it('a handler that cannot init answers 502 and says why', async () => {
    // Memory capped below the module's initial size is refused at package time; here the
    // package is fine but the zip is replaced by one without the .wasm.
    const wasmPath = path.join(work, 'emu-broken.wasm');
    await writeFile(wasmPath, await wat2wasm(writeOnce({ stdout: 'Content-Type: text/plain\n\nok' })));
    const bundle = await adapter.package({ name: 'emu-broken', wasmPath, env: {}, secrets: [], limits: { memoryMiB: 32, timeoutMs: 1000 } });
    const { deterministicZip, readZip } = await import('../../../adapters/lambda/zip.js');
    const { readFile } = await import('node:fs/promises');
    const entries = readZip(await readFile(bundle.archive!));
    await writeFile(bundle.archive!, deterministicZip([{ path: 'index.mjs', data: entries['index.mjs'] }, { path: 'wfn.json', data: entries['wfn.json'] }]));
    const lines: string[] = [];
    const emulator = await adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: (l) => lines.push(l) });
    emulators.push(emulator);
    const res = await request(emulator.url);
    expect(res.status).toBe(502);
    expect(lines).toContainEqual(expect.stringMatching(/^GET \/ 502 .* init failed: .*ENOENT/));
  });
});
