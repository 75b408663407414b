/**
 * The memory image (module.ts takeDataImage): the data segments are moved into one image the host
 * copies into the memory it lends, and a recycled memory is reset to it. Every request must still
 * see exactly what a fresh instance sees, whatever the previous one wrote, and a module whose
 * segments cannot be imaged is left as it is.
 */
import { describe, expect, it } from 'vitest';
import { invokeHttp, tidyMemories } from '../../src/runtime/invoke.js';
import { capMemory, IMAGE_SECTION, importMemory, takeDataImage } from '../../src/runtime/module.js';
import { compileFunction } from '../../src/runtime/node/load.js';
import { wat2wasm } from '../helpers/wat.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const FN = { route: '/', env: {} };

// Three active segments (the third overwrites part of the second), one passive segment copied in
// with memory.init. The run answers what it finds at 200..215, then scribbles over all of it.
const SEGMENTS_WAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (data (i32.const 100) "Content-Type: text/plain\\n\\n")
  (data (i32.const 200) "abcdefgh")
  (data (i32.const 204) "XY")
  (data $later "PQRS")
  (func (export "_start")
    (memory.init $later (i32.const 208) (i32.const 0) (i32.const 4))
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 26))
    (i32.store (i32.const 8) (i32.const 200))
    (i32.store (i32.const 12) (i32.const 16))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 16)))
    (memory.fill (i32.const 100) (i32.const 0x7a) (i32.const 200))
    (i32.store (i32.const 70000) (i32.const 0x41414141))))`;

async function runner(wat: string) {
  const loaded = await compileFunction(await wat2wasm(wat), 'fixture.wasm', { memoryMiB: 16, timeoutMs: 5000, fn: FN });
  return {
    loaded,
    run: async () => text((await invokeHttp(loaded.module, { method: 'GET', url: 'http://127.0.0.1/', headers: [], body: new Uint8Array(0) }, FN, { pooledMemory: loaded.pooledMemory })).response.body),
  };
}

describe('memory image', () => {
  it('a fresh instance and every recycled memory see the data segments as instantiation lays them out', async () => {
    const { loaded, run } = await runner(SEGMENTS_WAT);
    expect(WebAssembly.Module.customSections(loaded.module, IMAGE_SECTION)).toHaveLength(1);
    const want = 'abcdXYghPQRS\0\0\0\0';
    const bodies = [await run(), await run()]; // the second one resets a dirty memory when it takes it
    tidyMemories();
    bodies.push(await run()); // this one gets a memory reset after the last response
    for (let i = 0; i < 3; i++) bodies.push(await run());
    expect(bodies).toEqual(Array(6).fill(want));
  });

  it('is the same answer as without the image (V8 writing the segments)', async () => {
    const wasm = await wat2wasm(SEGMENTS_WAT);
    const pooled = importMemory(capMemory(wasm, 16))!;
    const plain = await WebAssembly.compile(pooled.bytes as BufferSource);
    const imaged = await WebAssembly.compile(takeDataImage(pooled.bytes, pooled.initialPages)! as BufferSource);
    const limits = { initialPages: pooled.initialPages, maximumPages: pooled.maximumPages };
    const req = { method: 'GET', url: 'http://127.0.0.1/', headers: [] as [string, string][], body: new Uint8Array(0) };
    const a = await invokeHttp(plain, req, FN, { pooledMemory: limits });
    const b = await invokeHttp(imaged, req, FN, { pooledMemory: limits });
    expect(text(b.response.body)).toBe(text(a.response.body));
  });

  it('leaves a module alone when a segment is not a constant offset, or lies past the initial memory', async () => {
    const global = importMemory(await wat2wasm(`(module (import "env" "g" (global $g i32)) (memory (export "memory") 1 2) (data (global.get $g) "x") (func (export "_start")))`))!;
    expect(takeDataImage(global.bytes, global.initialPages)).toBeUndefined();
    const past = importMemory(await wat2wasm(`(module (memory (export "memory") 1 4) (data (i32.const 65535) "xy") (func (export "_start")))`))!;
    expect(takeDataImage(past.bytes, past.initialPages)).toBeUndefined();
  });
});
