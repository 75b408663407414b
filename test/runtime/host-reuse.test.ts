/**
 * The invoke path reuses a WASI host (its import functions) and the import object from one
 * invocation to the next: nothing of a request may be visible to the next one (environment,
 * argv, stdin, output, open descriptors of the bundled files), and each still runs on a fresh
 * instance (a global written by one run is never seen by another).
 */
import { describe, expect, it } from 'vitest';
import { decodeArchive, encodeArchive } from '../../src/runtime/files.js';
import { invokeHttp } from '../../src/runtime/invoke.js';
import { compileFunction } from '../../src/runtime/node/load.js';
import type { HttpRequest } from '../../src/runtime/types.js';
import { ERRNO, WasiHost } from '../../src/runtime/wasi.js';
import { ENV_DUMP_WAT } from '../fixtures/contract.js';
import { wat2wasm } from '../helpers/wat.js';

const enc = new TextEncoder();
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const FN = { route: '/', env: {} };
const req = (path: string, headers: [string, string][] = [], body = new Uint8Array(0)): HttpRequest => ({ method: 'GET', url: `http://127.0.0.1${path}`, headers, body });

// A global starts at 0; each run adds 1 and answers its value: a fresh instance always says 1.
const COUNTER_WAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $n (mut i32) (i32.const 0))
  (data (i32.const 100) "Content-Type: text/plain\\n\\n0")
  (func (export "_start")
    (global.set $n (i32.add (global.get $n) (i32.const 1)))
    (i32.store8 (i32.const 126) (i32.add (i32.const 48) (global.get $n)))
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 27))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))`;

async function load(wat: string) {
  const loaded = await compileFunction(await wat2wasm(wat), 'fixture.wasm', { memoryMiB: 16, timeoutMs: 5000, fn: FN });
  return (r: HttpRequest) => invokeHttp(loaded.module, r, FN, { memoryCapBytes: loaded.memoryCapBytes, pooledMemory: loaded.pooledMemory });
}

describe('reused WASI hosts', () => {
  it('each request sees only its own environment, whatever ran before it', async () => {
    const run = await load(ENV_DUMP_WAT);
    const a = () => run(req('/a?x=1', [['x-first', 'one'], ['cookie', 'a=1']]));
    const b = () => run(req('/b', [['x-second', 'two']]));
    const fresh = { a: text((await a()).response.body), b: text((await b()).response.body) };
    expect(fresh.a).toContain('HTTP_X_FIRST=one');
    expect(fresh.b).not.toContain('HTTP_X_FIRST');
    expect(fresh.b).not.toContain('HTTP_COOKIE');
    for (let i = 0; i < 5; i++) {
      expect(text((await b()).response.body)).toBe(fresh.b);
      expect(text((await a()).response.body)).toBe(fresh.a);
    }
  });

  it('a global written by one request is never seen by the next (a fresh instance each time)', async () => {
    const run = await load(COUNTER_WAT);
    const bodies = [];
    for (let i = 0; i < 5; i++) bodies.push(text((await run(req('/'))).response.body));
    expect(bodies).toEqual(Array(5).fill('1'));
  });

  it('reset: new stdin, argv, environment, empty output and exit code, and a response body that stays intact', () => {
    const host = new WasiHost({ args: ['/first'], env: [['A', '1']], stdin: enc.encode('first body') });
    const memory = new WebAssembly.Memory({ initial: 1 });
    const call = (name: string) => host.imports.wasi_snapshot_preview1[name] as unknown as (...args: number[]) => number;
    const view = () => new DataView(memory.buffer);
    host.bind(memory);
    new Uint8Array(memory.buffer).set(enc.encode('out-1'), 512);
    view().setUint32(0, 512, true);
    view().setUint32(4, 5, true);
    expect(call('fd_write')(1, 0, 1, 16)).toBe(ERRNO.SUCCESS);
    const firstOut = host.stdout();
    host.exitCode = 3;

    host.reset({ args: ['/second', 'q'], env: [['B', '2']], stdin: enc.encode('2nd') });
    host.bind(memory);
    expect(text(host.stdout())).toBe('');
    expect(text(firstOut)).toBe('out-1'); // the previous response's body is not overwritten
    expect(host.exitCode).toBeNull();
    expect(call('args_sizes_get')(32, 36)).toBe(ERRNO.SUCCESS);
    expect([view().getUint32(32, true), view().getUint32(36, true)]).toEqual([2, 10]);
    expect(call('environ_sizes_get')(32, 36)).toBe(ERRNO.SUCCESS);
    expect([view().getUint32(32, true), view().getUint32(36, true)]).toEqual([1, 4]);
    view().setUint32(0, 1024, true);
    view().setUint32(4, 100, true);
    expect(call('fd_read')(0, 0, 1, 16)).toBe(ERRNO.SUCCESS);
    expect(view().getUint32(16, true)).toBe(3);
    expect(text(new Uint8Array(memory.buffer, 1024, 3))).toBe('2nd');
  });

  it('reset: descriptors of the bundled files opened by one request are closed for the next', () => {
    const files = decodeArchive(encodeArchive({ preopens: [{ name: '/', path: '' }], entries: [{ path: 'a.txt', kind: 'file', mtimeNs: 0n, data: enc.encode('hello') }] }));
    const host = new WasiHost({ args: [], env: [], stdin: new Uint8Array(0), files });
    const memory = new WebAssembly.Memory({ initial: 1 });
    const call = (name: string) => host.imports.wasi_snapshot_preview1[name] as unknown as (...args: (number | bigint)[]) => number;
    const open = () => {
      new Uint8Array(memory.buffer).set(enc.encode('a.txt'), 4096);
      const errno = call('path_open')(3, 1, 4096, 5, 0, 0x2n, 0n, 0, 0);
      return [errno, new DataView(memory.buffer).getUint32(0, true)];
    };
    host.bind(memory);
    const [errno, fd] = open();
    expect(errno).toBe(ERRNO.SUCCESS);
    expect(open()[1]).toBe(fd + 1); // left open
    host.reset({ args: [], env: [], stdin: new Uint8Array(0) });
    host.bind(memory);
    expect(call('fd_close')(fd + 1)).toBe(ERRNO.BADF);
    expect(open()).toEqual([ERRNO.SUCCESS, fd]);
  });
});
