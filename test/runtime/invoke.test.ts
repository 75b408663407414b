/**
 * One invocation in-process (src/runtime/invoke.ts) and the memory policy under it
 * (src/runtime/module.ts): recycled memories, the cap rewrite, the memory import, how a run is
 * classified. Written against survivors of `npm run mutate`: these paths were only reached
 * through worker threads (lib/), which a mutant of src/ never touches.
 */
import { describe, expect, it } from 'vitest';
import { invokeHttp, nearMemoryCap, responseFromRun, runModule, type RunResult } from '../../src/runtime/invoke.js';
import { capMemory, importMemory, MemoryCapError, POOLED_MEMORY, WASM_PAGE } from '../../src/runtime/module.js';
import { definedMemories } from '../../src/runtime/wasm-binary.js';
import { readImports } from '../../src/runtime/wasm-imports.js';
import { wat2wasm } from '../helpers/wat.js';

const HEADER = 'Status: 200\\r\\nContent-Type: text/plain\\r\\n\\r\\n';
const HEADER_LEN = 'Status: 200\r\nContent-Type: text/plain\r\n\r\n'.length;

/**
 * A CGI function that answers with two bytes: the page count of its memory when it started
 * ('A' + pages) and the byte at 4000 before it writes 1 there (state left by an earlier run
 * would show). A first stdin byte N makes it grow its memory by N pages after that.
 */
const MEMORY_PROBE = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1 200)
  (data (i32.const 100) "${HEADER}")
  (func (export "_start")
    (i32.store8 (i32.const 3000) (i32.add (i32.const 65) (memory.size)))
    (i32.store8 (i32.const 3001) (i32.add (i32.const 48) (i32.load8_u (i32.const 4000))))
    (i32.store8 (i32.const 4000) (i32.const 1))
    ;; stdin: one byte into 5000
    (i32.store (i32.const 16) (i32.const 5000)) (i32.store (i32.const 20) (i32.const 1))
    (drop (call $fd_read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 24)))
    (if (i32.load (i32.const 24)) (then (drop (memory.grow (i32.load8_u (i32.const 5000))))))
    ;; stdout: header, then the two bytes
    (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const ${HEADER_LEN}))
    (i32.store (i32.const 8) (i32.const 3000)) (i32.store (i32.const 12) (i32.const 2))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 24)))))`;

async function pooledProbe() {
  const pooled = importMemory(await wat2wasm(MEMORY_PROBE));
  if (!pooled) throw new Error('importMemory refused the probe');
  return { module: new WebAssembly.Module(pooled.bytes), limits: { initialPages: pooled.initialPages, maximumPages: pooled.maximumPages } };
}

const run = async (module: WebAssembly.Module, limits: { initialPages: number; maximumPages: number } | undefined, growPages = 0) => {
  const result = await runModule(module, { env: [], args: ['fn'], stdin: growPages ? Uint8Array.of(growPages) : new Uint8Array(0) }, limits);
  expect(result.exitCode).toBe(0);
  return new TextDecoder().decode(result.stdout.subarray(HEADER_LEN));
};

describe('recycled memories', () => {
  it('every run starts as a fresh instance: zeroed memory, data segments written again', async () => {
    const { module, limits } = await pooledProbe();
    for (let i = 0; i < 4; i++) expect(await run(module, limits)).toBe('B0');
  });

  it('a memory that grew a little is reused as it is (the guest sees more free pages), one that grew a lot is dropped', async () => {
    const { module, limits } = await pooledProbe();
    expect(await run(module, limits, 2)).toBe('B0'); // grows 1 -> 3 pages (192 KiB): recycled
    expect(await run(module, limits)).toBe('D0'); // gets the 3-page memory, zeroed
    expect(await run(module, limits, 70)).toBe('D0'); // 3 -> 73 pages (4.6 MiB, over the minimum + 4 MiB): dropped
    expect(await run(module, limits)).toBe('B0'); // a new memory of the module's minimum
  });

  it('without pooling the module keeps its own memory', async () => {
    const module = new WebAssembly.Module(await wat2wasm(MEMORY_PROBE));
    expect(await run(module, undefined, 3)).toBe('B0');
    expect(await run(module, undefined)).toBe('B0');
  });
});

describe('importMemory', () => {
  it('turns the memory into the last import wfn.memory with the same limits, keeping the other imports', async () => {
    const bytes = await wat2wasm(MEMORY_PROBE);
    const pooled = importMemory(bytes)!;
    expect(pooled).toMatchObject({ initialPages: 1, maximumPages: 200 });
    expect(definedMemories(pooled.bytes)).toEqual([]);
    expect(readImports(pooled.bytes).map((i) => `${i.module}.${i.name}:${i.kind}`)).toEqual([
      'wasi_snapshot_preview1.fd_write:function',
      'wasi_snapshot_preview1.fd_read:function',
      `${POOLED_MEMORY.module}.${POOLED_MEMORY.name}:memory`,
    ]);
    expect(readImports(pooled.bytes).at(-1)?.minimum).toBe(1);
  });

  it('adds an import section where the module had none, after the type section and before the functions', async () => {
    const bytes = await wat2wasm('(module (memory (export "memory") 2 3) (func (export "f") (result i32) (i32.const 7)))');
    const pooled = importMemory(bytes)!;
    expect(readImports(pooled.bytes)).toEqual([{ module: 'wfn', name: 'memory', kind: 'memory', minimum: 2 }]);
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 3 });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(pooled.bytes), { wfn: { memory } });
    expect(instance.exports.memory).toBe(memory);
    expect((instance.exports.f as () => number)()).toBe(7);
  });

  it('skips every import kind before it (function, table, global) and the module still links', async () => {
    const bytes = await wat2wasm(`(module
      (import "env" "f" (func $f (result i32)))
      (import "env" "t" (table 1 4 funcref))
      (import "env" "t2" (table 1 funcref))
      (import "env" "g" (global i32))
      (memory (export "memory") 1 2)
      (func (export "sum") (result i32) (i32.add (call $f) (global.get 0))))`);
    const pooled = importMemory(bytes)!;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(pooled.bytes), {
      env: { f: () => 40, t: new WebAssembly.Table({ initial: 1, maximum: 4, element: 'anyfunc' }), t2: new WebAssembly.Table({ initial: 1, element: 'anyfunc' }), g: new WebAssembly.Global({ value: 'i32' }, 2) },
      wfn: { memory: new WebAssembly.Memory({ initial: 1, maximum: 2 }) },
    });
    expect((instance.exports.sum as () => number)()).toBe(42);
  });

  it('does not apply to a module without a memory, an imported memory, a shared one or one without a maximum', async () => {
    expect(importMemory(await wat2wasm('(module (func (export "_start")))'))).toBeUndefined();
    expect(importMemory(await wat2wasm('(module (import "env" "m" (memory 1 2)))'))).toBeUndefined();
    expect(importMemory(await wat2wasm('(module (memory 1))'))).toBeUndefined();
    // (memory 1 2 shared), written by hand: wabt would need the threads feature
    const shared = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x04, 0x01, 0x03, 0x01, 0x02);
    expect(definedMemories(shared)[0]).toMatchObject({ shared: true, maxPages: 2 });
    expect(importMemory(shared)).toBeUndefined();
  });
});

describe('capMemory', () => {
  it('writes the cap as the maximum, keeps a lower maximum of the module, and leaves memory-less modules alone', async () => {
    const unbounded = capMemory(await wat2wasm('(module (memory 2))'), 1);
    expect(definedMemories(unbounded)[0]).toMatchObject({ minPages: 2, maxPages: 16 });
    const lower = capMemory(await wat2wasm('(module (memory 2 5))'), 1);
    expect(definedMemories(lower)[0]).toMatchObject({ minPages: 2, maxPages: 5 });
    const higher = capMemory(await wat2wasm('(module (memory 2 1000))'), 2);
    expect(definedMemories(higher)[0]).toMatchObject({ minPages: 2, maxPages: 32 });
    const none = await wat2wasm('(module (func))');
    expect(capMemory(none, 1)).toBe(none);
  });

  it('a cap below one page still leaves one page; a minimum at the cap is allowed, above it refused', async () => {
    expect(definedMemories(capMemory(await wat2wasm('(module (memory 1))'), 0.01))[0].maxPages).toBe(1);
    expect(definedMemories(capMemory(await wat2wasm('(module (memory 16))'), 1))[0]).toMatchObject({ minPages: 16, maxPages: 16 });
    const big = await wat2wasm('(module (memory 17))');
    expect(() => capMemory(big, 1)).toThrow(MemoryCapError);
    expect(() => capMemory(big, 1)).toThrow("the module's initial memory (1.0625 MiB) is larger than the memory cap (1 MiB)");
  });
});

describe('classifying a run', () => {
  const base: RunResult = { stdout: new Uint8Array(0), stderr: Uint8Array.of(33), exitCode: 0, memoryBytes: WASM_PAGE, instantiateUs: 1, runUs: 2 };

  it('nearMemoryCap: within an eighth of the cap, or two pages for small caps', () => {
    const mib8 = 8 * 1048576;
    expect(nearMemoryCap(7 * 1048576, mib8)).toBe(true);
    expect(nearMemoryCap(7 * 1048576 - 1, mib8)).toBe(false);
    expect(nearMemoryCap(mib8, mib8)).toBe(true);
    const small = 512 * 1024; // an eighth is 64 KiB, less than two pages
    expect(nearMemoryCap(small - 2 * WASM_PAGE, small)).toBe(true);
    expect(nearMemoryCap(small - 2 * WASM_PAGE - 1, small)).toBe(false);
  });

  it('a trap near the cap is a memory-limit hit, elsewhere a trap; an exit code is an exit; bad output is a 502', () => {
    const cap = 8 * 1048576;
    const memory = responseFromRun({ ...base, exitCode: null, trap: 'RuntimeError: unreachable', memoryBytes: cap }, { memoryCapBytes: cap });
    expect(memory).toMatchObject({ outcome: 'memory', reason: 'memory limit reached (8 MiB), then: RuntimeError: unreachable' });
    expect(memory.response.status).toBe(500);
    expect(memory.stderr).toEqual(base.stderr);
    expect(memory.timings).toEqual({ instantiateUs: 1, runUs: 2 });
    const trap = responseFromRun({ ...base, exitCode: null, trap: 'RuntimeError: unreachable', memoryBytes: WASM_PAGE }, { memoryCapBytes: cap });
    expect(trap).toMatchObject({ outcome: 'trap', reason: 'the function trapped: RuntimeError: unreachable' });
    expect(responseFromRun({ ...base, exitCode: null, trap: 'x', memoryBytes: cap })).toMatchObject({ outcome: 'trap' });
    const exit = responseFromRun({ ...base, exitCode: 3 });
    expect(exit).toMatchObject({ outcome: 'exit', reason: 'the function exited with code 3' });
    expect(exit.response.status).toBe(500);
    const malformed = responseFromRun({ ...base, stdout: new TextEncoder().encode('no header block') });
    expect(malformed.outcome).toBe('malformed');
    expect(malformed.reason).toMatch(/^malformed CGI output: /);
    expect(malformed.response.status).toBe(502);
    const ok = responseFromRun({ ...base, stdout: new TextEncoder().encode('Status: 201\r\n\r\nhi') });
    expect(ok).toMatchObject({ outcome: 'ok', timings: { instantiateUs: 1, runUs: 2 } });
    expect(ok.response.status).toBe(201);
  });

  it('a request CGI cannot carry is the client\'s fault: 400, and the function never runs', async () => {
    const module = new WebAssembly.Module(await wat2wasm('(module (func (export "_start") unreachable) (memory (export "memory") 1))'));
    const result = await invokeHttp(module, { method: 'GET', url: 'http://x/', headers: [['x-a', 'a\0b']], body: new Uint8Array(0) }, { route: '/', env: {} });
    expect(result.outcome).toBe('bad-request');
    expect(result.response.status).toBe(400);
    expect(result.reason).toContain('NUL');
  });

  it('a proc_exit ends the run with its code, a trap carries its message, and the timings are in microseconds', async () => {
    const exiting = new WebAssembly.Module(await wat2wasm(`(module
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start") (call $exit (i32.const 7))))`));
    expect((await runModule(exiting, { env: [], args: [], stdin: new Uint8Array(0) })).exitCode).toBe(7);
    const trapping = new WebAssembly.Module(await wat2wasm('(module (memory (export "memory") 1) (func (export "_start") unreachable))'));
    const trapped = await runModule(trapping, { env: [], args: [], stdin: new Uint8Array(0) });
    expect(trapped.exitCode).toBeNull();
    expect(trapped.trap).toMatch(/^RuntimeError: unreachable/);
    // A run that spins a few million iterations: its runUs must lie inside the wall time around it.
    const spinning = new WebAssembly.Module(await wat2wasm(`(module (memory (export "memory") 1)
      (func (export "_start") (local $i i32) (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 3000000))))))`));
    const t0 = performance.now();
    const spun = await runModule(spinning, { env: [], args: [], stdin: new Uint8Array(0) });
    const wallUs = (performance.now() - t0) * 1000;
    expect(spun.runUs).toBeGreaterThan(100);
    expect(spun.runUs + spun.instantiateUs).toBeLessThanOrEqual(wallUs + 1);
    expect(spun.instantiateUs).toBeGreaterThanOrEqual(0);
  });
});
