import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config/types.js';
import { compileFunction } from '../../src/runtime/node/load.js';
import { WorkerPool, type LoadedFunction } from '../../src/runtime/node/pool.js';
import type { HttpRequest } from '../../src/runtime/types.js';
import { UserError } from '../../src/util/errors.js';
import { BAD_IMPORT_WAT, CONTRACT_CASES, ENV_DUMP_WAT, LOOP_WAT, MEMORY_BOMB_WAT, writeOnce } from '../fixtures/contract.js';
import { wat2wasm } from '../helpers/wat.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

let pool: WorkerPool;
beforeAll(() => {
  pool = new WorkerPool(2);
});
afterAll(async () => {
  await pool.close();
});

async function load(wat: string, limits: { memoryMiB?: number; timeoutMs?: number } = {}, env: Record<string, string> = {}): Promise<LoadedFunction> {
  return compileFunction(await wat2wasm(wat), 'fixture.wasm', { memoryMiB: limits.memoryMiB ?? 128, timeoutMs: limits.timeoutMs ?? 5000, fn: { route: '/', env } });
}

function request(r: { method?: string; path?: string; headers?: [string, string][]; body?: Uint8Array } = {}): HttpRequest {
  return { method: r.method ?? 'GET', url: `http://127.0.0.1:8080${r.path ?? '/'}`, headers: r.headers ?? [], body: r.body ?? new Uint8Array(0), remoteAddr: '127.0.0.1' };
}

describe('contract edge cases through the real host', () => {
  for (const c of CONTRACT_CASES) {
    it(c.name, async () => {
      const result = await pool.invoke(await load(c.wat), request(c.request));
      expect(result.outcome).toBe(c.expect.outcome);
      expect(result.response.status).toBe(c.expect.status);
      if (c.expect.headers) expect(result.response.headers).toEqual(c.expect.headers);
      if (c.expect.body !== undefined) {
        const want = typeof c.expect.body === 'string' ? new TextEncoder().encode(c.expect.body) : c.expect.body;
        expect(result.response.body.length).toBe(want.length);
        expect(Buffer.compare(Buffer.from(result.response.body), Buffer.from(want))).toBe(0);
      }
      if (c.expect.stderr !== undefined) expect(text(result.stderr)).toBe(c.expect.stderr);
      if (c.expect.outcome !== 'ok') {
        expect(result.reason).toBeTruthy();
        expect(text(result.response.body)).toBe(`${c.expect.status} ${result.response.status === 500 ? 'Internal Server Error' : 'Bad Gateway'}\n`);
      }
    });
  }

  it('an infinite loop is stopped at the timeout with 504, and the next request is answered', async () => {
    const loop = await load(LOOP_WAT, { timeoutMs: 300 });
    const ok = await load(writeOnce({ stdout: 'Content-Type: text/plain\n\nalive' }));
    const started = performance.now();
    const result = await pool.invoke(loop, request());
    const elapsed = performance.now() - started;
    expect(result.response.status).toBe(504);
    expect(result.outcome).toBe('timeout');
    // Not before its timeout; and by it, not by the default one (10 s): a bound that only catches that.
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(DEFAULT_LIMITS.timeoutMs);
    const next = await pool.invoke(ok, request());
    expect(next.response.status).toBe(200);
    expect(text(next.response.body)).toBe('alive');
    expect(pool.replaced).toBeGreaterThanOrEqual(1);
  });

  it('a healthy function keeps answering while another one loops', async () => {
    const loop = await load(LOOP_WAT, { timeoutMs: 3000 });
    const ok = await load(writeOnce({ stdout: 'Content-Type: text/plain\n\nalive' }));
    let loopEnded = false;
    const looping = pool.invoke(loop, request()).finally(() => (loopEnded = true));
    // Ordering, not a clock: all 20 answers arrive while the loop still runs (before its timeout).
    for (let i = 0; i < 20; i++) expect((await pool.invoke(ok, request())).response.status).toBe(200);
    expect(loopEnded).toBe(false);
    expect((await looping).response.status).toBe(504);
  });

  it('a request queued behind one that overruns is re-run on a fresh worker, not lost', async () => {
    // Loops when the request has a query (argv has more than the path), else answers.
    const wat = `(module
      (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 100) "Content-Type: text/plain\\n\\nok")
      (func (export "_start")
        (drop (call $sizes (i32.const 0) (i32.const 4)))
        (if (i32.gt_u (i32.load (i32.const 0)) (i32.const 1)) (then (loop $forever (br $forever))))
        (i32.store (i32.const 8) (i32.const 100))
        (i32.store (i32.const 12) (i32.const 28))
        (drop (call $w (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 16)))))`;
    const fn = await load(wat, { timeoutMs: 400 });
    const single = new WorkerPool(1);
    try {
      const [looped, queued] = await Promise.all([single.invoke(fn, request({ path: '/?loop=1' })), single.invoke(fn, request())]);
      expect(looped.response.status).toBe(504);
      expect(queued.response.status).toBe(200);
      expect(text(queued.response.body)).toBe('ok');
    } finally {
      await single.close();
    }
  });

  it('memory growth past the cap fails inside the module and ends as a 500', async () => {
    const bomb = await load(MEMORY_BOMB_WAT, { memoryMiB: 16 });
    const result = await pool.invoke(bomb, request());
    expect(result.response.status).toBe(500);
    expect(result.outcome).toBe('memory');
    expect(result.reason).toMatch(/memory limit reached \(16 MiB\)/);
  });

  it('recycled memories never leak one request\'s data into the next', async () => {
    // Reads a marker at 1000 and near the top of a grown page, answers clean/dirty, then dirties both.
    const wat = `(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (data (i32.const 100) "Content-Type: text/plain\\n\\nclean")
      (func (export "_start") (local $far i32)
        (if (i32.lt_u (memory.size) (i32.const 3)) (then (drop (memory.grow (i32.const 2)))))
        (local.set $far (i32.const 190000))
        (if (i32.or (i32.load (i32.const 1000)) (i32.load (local.get $far)))
          (then (i32.store (i32.const 126) (i32.const 0x74726964)) (i32.store8 (i32.const 130) (i32.const 0x79))))
        (i32.store (i32.const 1000) (i32.const 1))
        (i32.store (local.get $far) (i32.const 1))
        (i32.store (i32.const 0) (i32.const 100))
        (i32.store (i32.const 4) (i32.const 31))
        (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`;
    const fn = await load(wat);
    expect(fn.pooledMemory).toEqual({ initialPages: 1, maximumPages: 2048 });
    expect(WebAssembly.Module.imports(fn.module)).toContainEqual({ module: 'wfn', name: 'memory', kind: 'memory' });
    const bodies = [];
    for (let i = 0; i < 6; i++) bodies.push(text((await pool.invoke(fn, request())).response.body));
    expect(bodies).toEqual(Array(6).fill('clean'));
  });

  it('an import outside preview1 is refused up front, naming the import', async () => {
    const error = await load(BAD_IMPORT_WAT).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as Error).message).toContain('import "env.abort" is not allowed');
  });

  it('a module without _start or memory is refused, naming the export', async () => {
    const error = await load('(module (func (export "main")))').catch((e: unknown) => e);
    expect((error as Error).message).toContain('export "_start" is missing');
    expect((error as Error).message).toContain('export "memory" is missing');
  });

  it('bytes that are not WebAssembly are refused with the reason', async () => {
    const error = await compileFunction(new TextEncoder().encode('hello'), 'hello.wasm', { memoryMiB: 128, timeoutMs: 1000, fn: { route: '/', env: {} } }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/hello.wasm is not a valid WebAssembly module/);
  });

  it('passes the CGI environment as WAGI defines it, built-ins winning over configured variables', async () => {
    const fn = await load(ENV_DUMP_WAT, {}, { GREETING: 'hi', REQUEST_METHOD: 'nope' });
    const result = await pool.invoke(
      fn,
      request({ method: 'POST', path: '/a%20b/c?x=1&y=two+words', headers: [['content-type', 'text/plain'], ['x-custom-thing', 'v'], ['cookie', 'a=1'], ['cookie', 'b=2']], body: new TextEncoder().encode('12345') }),
    );
    const env = Object.fromEntries(text(result.response.body).trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env).toMatchObject({
      REQUEST_METHOD: 'POST',
      QUERY_STRING: 'x=1&y=two+words',
      PATH_INFO: '/a b/c',
      X_RAW_PATH_INFO: '/a%20b/c',
      SCRIPT_NAME: '',
      X_MATCHED_ROUTE: '/',
      X_FULL_URL: 'http://127.0.0.1:8080/a%20b/c?x=1&y=two+words',
      SERVER_NAME: '127.0.0.1',
      SERVER_PORT: '8080',
      SERVER_PROTOCOL: 'HTTP/1.1',
      GATEWAY_INTERFACE: 'CGI/1.1',
      REMOTE_ADDR: '127.0.0.1',
      CONTENT_TYPE: 'text/plain',
      CONTENT_LENGTH: '5',
      HTTP_X_CUSTOM_THING: 'v',
      HTTP_COOKIE: 'a=1; b=2',
      GREETING: 'hi',
    });
    expect(env.HTTP_CONTENT_TYPE).toBeUndefined();
  });
});
