/**
 * splice.ts on its own: a small "engine" that imports main's memory, table and globals, and a
 * small "main" that defines them with a data segment (the snapshot). Spliced, the engine must
 * own main's definitions and data, keep its own, and import nothing from main any more.
 */
import { describe, expect, it } from 'vitest';
import { spliceMain } from '../../../src/toolchains/javascript/splice.js';
import { wat2wasm } from '../../helpers/wat.js';

const ENGINE = `(module
  (import "wasi_snapshot_preview1" "sched_yield" (func $yield (result i32)))
  (import "main" "memory" (memory 1))
  (import "main" "__indirect_function_table" (table 1 funcref))
  (import "main" "__stack_pointer" (global $sp (mut i32)))
  (import "main" "lib:memory_base" (global $base i32))
  (global $own (mut i32) (i32.const 7))
  (data (i32.const 0) "engine")
  (func (export "sp") (result i32) (global.get $sp))
  (func (export "base") (result i32) (global.get $base))
  (func (export "own") (result i32) (global.get $own))
  (func (export "_start") (drop (call $yield)))
  (export "memory" (memory 0))
  (export "table" (table 0)))`;

const MAIN = `(module
  (memory (export "memory") 2 10)
  (table (export "__indirect_function_table") 4 funcref)
  (global (export "__stack_pointer") (mut i32) (i32.const 65536))
  (global (export "lib:memory_base") i32 (i32.const 1024))
  (data (i32.const 1024) "snapshot"))`;

async function instantiate(bytes: Uint8Array) {
  const module = await WebAssembly.compile(bytes as BufferSource);
  const instance = await WebAssembly.instantiate(module, { wasi_snapshot_preview1: { sched_yield: () => 0 } });
  return { module, exports: instance.exports as Record<string, any> };
}

describe('splicing main into the linked engine', () => {
  it('gives the engine main\'s memory, table, globals and data; the engine\'s own stay', async () => {
    const spliced = spliceMain(await wat2wasm(ENGINE), await wat2wasm(MAIN), 'main');
    const { module, exports } = await instantiate(spliced);
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'wasi_snapshot_preview1', name: 'sched_yield', kind: 'function' }]);
    const memory = exports.memory as WebAssembly.Memory;
    expect(memory.buffer.byteLength).toBe(2 * 65536); // main's limits, not the engine's import
    expect(memory.grow(8)).toBe(2);
    expect(() => memory.grow(1)).toThrow(); // main's maximum (10) holds
    const text = (at: number, n: number) => new TextDecoder().decode(new Uint8Array(memory.buffer, at, n));
    expect(text(0, 6)).toBe('engine');
    expect(text(1024, 8)).toBe('snapshot');
    expect([exports.sp(), exports.base(), exports.own()]).toEqual([65536, 1024, 7]);
    expect((exports.table as WebAssembly.Table).length).toBe(4);
  });

  it('refuses layouts it does not know, with the reason', async () => {
    const engine = await wat2wasm(ENGINE);
    const main = await wat2wasm(MAIN);
    await expect(async () => spliceMain(engine, await wat2wasm(MAIN.replace('(table (export "__indirect_function_table") 4 funcref)', '')), 'main')).rejects.toThrow(/defines no table/);
    await expect(async () => spliceMain(engine, await wat2wasm(MAIN.replace('"lib:memory_base"', '"other"')), 'main')).rejects.toThrow(/exports no global "lib:memory_base"/);
    await expect(async () => spliceMain(engine, await wat2wasm(MAIN.replace('(global (export "__stack_pointer") (mut i32)', '(global (export "__stack_pointer") i32')), 'main')).rejects.toThrow(/"__stack_pointer" is immutable i32 in main but imported differently/);
    await expect(async () => spliceMain(await wat2wasm(ENGINE.replace('(import "main" "memory" (memory 1))', '').replace('(global $own', '(memory 1)\n  (global $own')), main, 'main')).rejects.toThrow(/defines its own memory/);
    expect(() => spliceMain(engine, main, 'elsewhere')).toThrow(/imports the memory main.memory; only functions may stay imports/);
  });
});
