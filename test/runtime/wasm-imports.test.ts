/**
 * The import reader/rewriter (src/runtime/wasm-imports.ts): every import kind, signatures,
 * renaming byte for byte, and the modules it must not misread. Written against survivors of
 * `npm run mutate` (no test exercised tables, globals, tags or renameImports in-process).
 */
import { describe, expect, it } from 'vitest';
import { formatFuncType, readFuncTypes, readImports, renameImports } from '../../src/runtime/wasm-imports.js';
import { WasmFormatError } from '../../src/runtime/wasm-binary.js';
import { wat2wasm } from '../helpers/wat.js';

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const name = (s: string) => [s.length, ...Buffer.from(s)];
/** A module from raw sections (id, payload): for encodings wabt would not write without extra features. */
const raw = (...sections: [number, number[]][]) => Uint8Array.from([...HEADER, ...sections.flatMap(([id, p]) => [id, p.length, ...p])]);

const EVERY_KIND = `(module
  (type $t (func (param i32 i64) (result f32)))
  (import "env" "f" (func (type $t)))
  (import "env" "tab" (table 3 funcref))
  (import "env" "mem" (memory 2 5))
  (import "env" "g" (global (mut i32)))
  (import "env" "c" (global f64))
  (func (export "call") (result f32) (call 0 (i32.const 1) (i64.const 2))))`;

describe('readImports', () => {
  it('reads every kind with its signature, minimum or global type', async () => {
    const bytes = await wat2wasm(EVERY_KIND);
    expect(readImports(bytes)).toEqual([
      { module: 'env', name: 'f', kind: 'function', type: { params: ['i32', 'i64'], results: ['f32'] } },
      { module: 'env', name: 'tab', kind: 'table', minimum: 3 },
      { module: 'env', name: 'mem', kind: 'memory', minimum: 2 },
      { module: 'env', name: 'g', kind: 'global', global: { valtype: 'i32', mutable: true } },
      { module: 'env', name: 'c', kind: 'global', global: { valtype: 'f64', mutable: false } },
    ]);
  });

  it('reads a tag import (exception handling) and goes on to the next entry', () => {
    // type 0: () -> (); imports: tag "e" "t" (attribute 0, type 0), then func "e" "f" (type 0)
    const bytes = raw([1, [1, 0x60, 0, 0]], [2, [2, ...name('e'), ...name('t'), 0x04, 0x00, 0x00, ...name('e'), ...name('f'), 0x00, 0x00]]);
    expect(readImports(bytes)).toEqual([
      { module: 'e', name: 't', kind: 'tag' },
      { module: 'e', name: 'f', kind: 'function', type: { params: [], results: [] } },
    ]);
  });

  it('a module without imports has none; without a type section, none of its functions has a type', async () => {
    expect(readImports(await wat2wasm('(module (func (export "x")))'))).toEqual([]);
    expect(readFuncTypes(await wat2wasm('(module)'))).toEqual([]);
  });

  it('an unknown import kind is a format error naming it', () => {
    const bytes = raw([2, [1, ...name('m'), ...name('n'), 0x09, 0x00]]);
    expect(() => readImports(bytes)).toThrow(WasmFormatError);
    expect(() => readImports(bytes)).toThrow('unknown import kind 9');
  });

  it('a type section with a non-function type (GC) leaves signatures unknown instead of misreading them', () => {
    // type 0 is a GC array type (0x5e), which this reader does not decode
    const bytes = raw([1, [1, 0x5e, 0x7f, 0x00]], [2, [1, ...name('m'), ...name('f'), 0x00, 0x00]]);
    expect(readFuncTypes(bytes)).toBeUndefined();
    expect(readImports(bytes)).toEqual([{ module: 'm', name: 'f', kind: 'function', type: undefined }]);
  });
});

describe('renameImports', () => {
  it('renames each (module, name) and keeps every descriptor and the rest byte for byte', async () => {
    const bytes = await wat2wasm(EVERY_KIND);
    const renamed = renameImports(bytes, (imp) => ({ module: `${imp.module}2`, name: `${imp.kind}:${imp.name}` }));
    const before = readImports(bytes);
    expect(readImports(renamed)).toEqual(before.map((imp) => ({ ...imp, module: 'env2', name: `${imp.kind}:${imp.name}` })));
    // The renamed module still links: instantiate it against the new names and call through the import.
    const module = new WebAssembly.Module(renamed);
    const instance = new WebAssembly.Instance(module, {
      env2: {
        'function:f': (a: number, b: bigint) => a + Number(b) + 0.5,
        'table:tab': new WebAssembly.Table({ initial: 3, element: 'anyfunc' }),
        'memory:mem': new WebAssembly.Memory({ initial: 2, maximum: 5 }),
        'global:g': new WebAssembly.Global({ value: 'i32', mutable: true }, 0),
        'global:c': new WebAssembly.Global({ value: 'f64', mutable: false }, 0),
      },
    });
    expect((instance.exports.call as () => number)()).toBe(3.5);
  });

  it('returns the same bytes for a module without imports, and lets rename refuse', async () => {
    const none = await wat2wasm('(module (func (export "x")))');
    expect(renameImports(none, () => ({ module: 'x', name: 'y' }))).toBe(none);
    const bytes = await wat2wasm(EVERY_KIND);
    expect(() => renameImports(bytes, (imp) => { if (imp.kind === 'global') throw new Error(`no ${imp.name}`); return imp; })).toThrow('no g');
  });
});

describe('formatFuncType', () => {
  it('prints params and results, and ? for an unknown type', () => {
    expect(formatFuncType({ params: ['i32', 'i64'], results: ['f32'] })).toBe('(i32, i64) -> (f32)');
    expect(formatFuncType({ params: [], results: [] })).toBe('() -> ()');
    expect(formatFuncType(undefined)).toBe('?');
  });
});
