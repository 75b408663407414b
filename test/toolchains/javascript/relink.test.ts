/**
 * relink.ts on its own: a small component with the three core modules componentize-qjs
 * produces (main, the QuickJS runtime library, the wit-dylib glue), written in WAT. Roles and
 * library names must be read from imports and exports, every import of the libraries must be
 * renamed to what provides it, and the generated host module must compile.
 */
import { describe, expect, it } from 'vitest';
import { identifyRoles, planLink, RelinkError } from '../../../src/toolchains/javascript/relink.js';
import { readModule } from '../../../src/toolchains/javascript/const-exprs.js';
import { wat2wasm } from '../../helpers/wat.js';

const MAIN = `(module
  (memory (export "memory") 1)
  (table (export "__indirect_function_table") 1 funcref)
  (global (export "__stack_pointer") (mut i32) (i32.const 4096))
  (global (export "qjs:memory_base") i32 (i32.const 1024))
  (global (export "qjs:table_base") i32 (i32.const 1))
  (global (export "glue:memory_base") i32 (i32.const 2048))
  (global (export "qjs:cabi_realloc") (mut i32) (i32.const 5)))`;

const RUNTIME = `(module
  (import "env" "memory" (memory 1))
  (import "env" "__indirect_function_table" (table 1 funcref))
  (import "env" "__memory_base" (global i32))
  (import "env" "__table_base" (global i32))
  (import "env" "__stack_pointer" (global (mut i32)))
  (import "GOT.func" "cabi_realloc" (global (mut i32)))
  (import "wasi:io/poll@0.2.0" "poll" (func (param i32 i32 i32)))
  (func (export "wit_dylib_export_async_call") (param i32) (result i32) (i32.const 0))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 0)))`;

const GLUE = `(module
  (import "env" "memory" (memory 1))
  (import "env" "__memory_base" (global i32))
  (import "env" "wit_dylib_export_async_call" (func (param i32) (result i32)))
  (func (export "[async-lift]wfn:fn/handler#handle") (result i32) (i32.const 0))
  (func (export "[callback][async-lift]wfn:fn/handler#handle") (param i32 i32 i32) (result i32) (i32.const 0))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 0)))`;

/** A component holding these core modules (section 1 each), in this order. */
function component(modules: Uint8Array[]): Uint8Array {
  const leb = (n: number) => {
    const out: number[] = [];
    do {
      out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
      n >>>= 7;
    } while (n > 0);
    return out;
  };
  const parts = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];
  for (const m of modules) parts.push(0x01, ...leb(m.length), ...m);
  return Uint8Array.from(parts);
}

const modules = async (...wats: string[]) => Promise.all(wats.map((w) => wat2wasm(w)));
const importsOf = (bytes: Uint8Array) => readModule(bytes).imports.map((i) => `${i.module}.${i.name}`);

describe('re-linking componentize-qjs output', () => {
  it('identifies main, runtime and glue by what they import and export, in any order', async () => {
    const [main, runtime, glue] = await modules(MAIN, RUNTIME, GLUE);
    const roles = identifyRoles(component([glue, runtime, main]));
    expect(roles.main.bytes).toEqual(main);
    expect(roles.runtime.bytes).toEqual(runtime);
    expect(roles.glue.bytes).toEqual(glue);
    expect([roles.runtime.library, roles.glue.library]).toEqual(['qjs', 'glue']);
  });

  it('renames every library import to its provider: main\'s entities and host functions through the host, symbols to the runtime', async () => {
    const plan = planLink(identifyRoles(component(await modules(MAIN, RUNTIME, GLUE))));
    const [runtime, glue] = plan.modules;
    expect([runtime.name, glue.name, plan.mainName]).toEqual(['runtime', 'glue', 'main']);
    expect(importsOf(runtime.bytes)).toEqual([
      'host.memory',
      'host.__indirect_function_table',
      'host.qjs:memory_base',
      'host.qjs:table_base',
      'host.__stack_pointer',
      'host.qjs:cabi_realloc',
      'host.wasi:io/poll@0.2.0#poll',
    ]);
    expect(importsOf(glue.bytes)).toEqual(['host.memory', 'host.glue:memory_base', 'runtime.wit_dylib_export_async_call']);
    // The host imports each of main's entities once, with the table large enough for the realloc slot (5).
    expect(plan.hostWat).toContain('(import "main" "__indirect_function_table" (table $table 6 funcref))');
    await expect(wat2wasm(plan.hostWat, 'host.wat')).resolves.toBeInstanceOf(Uint8Array);
  });

  it('fails with the reason on a layout it does not know', async () => {
    const [main, runtime, glue] = await modules(MAIN, RUNTIME, GLUE);
    expect(() => identifyRoles(component([main, main, runtime, glue]))).toThrow(/expected exactly one main module .*found 2/);
    expect(() => identifyRoles(component([main, glue]))).toThrow(RelinkError);
    const otherGot = await wat2wasm(RUNTIME.replace('(import "GOT.func" "cabi_realloc" (global (mut i32)))', '(import "GOT.func" "cabi_realloc" (global (mut i32)))\n  (import "GOT.func" "malloc" (global (mut i32)))'));
    const mainWithMalloc = await wat2wasm(MAIN.replace('(i32.const 5)))', '(i32.const 5))\n  (global (export "qjs:malloc") (mut i32) (i32.const 6)))'));
    expect(() => planLink(identifyRoles(component([mainWithMalloc, otherGot, glue])))).toThrow(/GOT.func imports are cabi_realloc, malloc, expected only cabi_realloc/);
  });
});
