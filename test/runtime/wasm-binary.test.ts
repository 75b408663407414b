/**
 * The binary codec's primitives (src/runtime/wasm-binary.ts): LEB128 both ways at their edges,
 * names, sections of modules and components, the errors for truncated or foreign input.
 * Written against survivors of `npm run mutate` (these were reached only through the pipeline).
 */
import { describe, expect, it } from 'vitest';
import {
  ByteWriter, concatBytes, coreModulesOf, definedMemories, encodeName, isComponent, listSections, readName, Reader, readU32Leb,
  replaceSection, sections, valtype, WasmFormatError, writeSleb, writeU32Leb,
} from '../../src/runtime/wasm-binary.js';

const MODULE_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
const COMPONENT_HEADER = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

describe('LEB128', () => {
  it('unsigned: the encodings at every byte boundary, and back', () => {
    const cases: [number, number[]][] = [
      [0, [0x00]], [1, [0x01]], [127, [0x7f]], [128, [0x80, 0x01]], [300, [0xac, 0x02]], [16383, [0xff, 0x7f]], [16384, [0x80, 0x80, 0x01]],
      [2 ** 32 - 1, [0xff, 0xff, 0xff, 0xff, 0x0f]],
    ];
    for (const [value, bytes] of cases) {
      expect(writeU32Leb(value)).toEqual(bytes);
      expect(readU32Leb(Uint8Array.from([0xee, ...bytes, 0xee]), 1)).toEqual({ value, next: 1 + bytes.length });
    }
    // A redundant (padded) encoding still reads.
    expect(readU32Leb(Uint8Array.of(0x81, 0x80, 0x00), 0)).toEqual({ value: 1, next: 3 });
  });

  it('unsigned: a truncated number and an over-long one are format errors', () => {
    expect(() => readU32Leb(Uint8Array.of(0x80, 0x80), 0)).toThrow(new WasmFormatError('truncated LEB128 number'));
    expect(() => readU32Leb(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01), 0)).toThrow('LEB128 number too long');
    expect(() => new Reader(Uint8Array.of(0x80), 0).u32()).toThrow('unexpected end of section');
  });

  it('signed: i32 and i64 edges both ways, exact as bigint', () => {
    const cases: [bigint, number[]][] = [
      [0n, [0x00]], [1n, [0x01]], [-1n, [0x7f]], [63n, [0x3f]], [64n, [0xc0, 0x00]], [-64n, [0x40]], [-65n, [0xbf, 0x7f]],
      [2147483647n, [0xff, 0xff, 0xff, 0xff, 0x07]], [-2147483648n, [0x80, 0x80, 0x80, 0x80, 0x78]],
      [-(2n ** 63n), [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]],
    ];
    for (const [value, bytes] of cases) {
      expect([value, writeSleb(value)]).toEqual([value, bytes]);
      const r = new Reader(Uint8Array.from([...bytes, 0xee]), 0);
      expect([value, r.sleb(), r.at]).toEqual([value, value, bytes.length]);
    }
  });
});

describe('names and writers', () => {
  it('encodes and reads UTF-8 names with their length; a name past its section is an error', () => {
    const name = encodeName('héllo');
    expect([...name]).toEqual([6, 0x68, 0xc3, 0xa9, 0x6c, 0x6c, 0x6f]);
    expect(readName(name, 0)).toEqual({ value: 'héllo', next: 7 });
    const long = encodeName('x'.repeat(200));
    expect([long[0], long[1], long.length]).toEqual([0xc8, 0x01, 202]);
    expect(() => new Reader(Uint8Array.of(5, 0x61), 0).name()).toThrow('name runs past the end of its section');
  });

  it('ByteWriter keeps small pushes and copied slices in order; concatBytes joins', () => {
    const w = new ByteWriter();
    const src = Uint8Array.of(10, 11, 12, 13);
    w.push(1, 2);
    w.copy(src, 1, 3);
    w.copy(src, 2, 2); // empty: nothing
    w.push(3);
    w.bytes(Uint8Array.of(4));
    expect([...w.finish()]).toEqual([1, 2, 11, 12, 3, 4]);
    expect([...concatBytes([Uint8Array.of(1), new Uint8Array(0), Uint8Array.of(2, 3)])]).toEqual([1, 2, 3]);
  });

  it('reads value types, reference types with a heap type, and refuses unknown ones', () => {
    const r = new Reader(Uint8Array.of(0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f, 0x63, 0x70, 0x64, 0x00, 0x7f), 0);
    expect(Array.from({ length: 9 }, () => valtype(r))).toEqual(['i32', 'i64', 'f32', 'f64', 'v128', 'funcref', 'externref', 'ref', 'ref']);
    expect(r.at).toBe(11);
    expect(() => valtype(new Reader(Uint8Array.of(0x42), 0))).toThrow('unsupported value type 0x42');
  });
});

describe('sections', () => {
  it('lists sections with their offsets and custom sections with their names', () => {
    const bytes = Uint8Array.from([...MODULE_HEADER, 0x00, 0x04, 0x02, 0x68, 0x69, 0xaa, 0x05, 0x03, 0x01, 0x00, 0x01]);
    expect(listSections(bytes)).toEqual([
      { id: 0, start: 8, contentStart: 10, end: 14, name: 'hi' },
      { id: 5, start: 14, contentStart: 16, end: 19 },
    ]);
    expect(definedMemories(bytes)).toEqual([{ minPages: 1, maxPages: undefined, shared: false, memory64: false }]);
    const replaced = replaceSection(bytes, listSections(bytes)[1], 5, [0x01, 0x00, 0x02]);
    expect(definedMemories(replaced)).toEqual([{ minPages: 2, maxPages: undefined, shared: false, memory64: false }]);
    expect([...replaced.subarray(0, 14)]).toEqual([...bytes.subarray(0, 14)]);
  });

  it('refuses what is not a core module, naming why', () => {
    expect(() => listSections(Uint8Array.of(1, 2, 3))).toThrow('not a WebAssembly binary (missing the \\0asm magic number)');
    expect(() => sections(Uint8Array.from([0x00, 0x61, 0x73, 0x6e, 1, 0, 0, 0]))).toThrow('missing the \\0asm magic number');
    expect(() => listSections(Uint8Array.from(COMPONENT_HEADER))).toThrow('not a WebAssembly core module (version is not 1; a component?)');
    expect(() => listSections(Uint8Array.from([...MODULE_HEADER.slice(0, 5), 0, 0, 1]))).toThrow('version is not 1');
    expect(() => listSections(Uint8Array.from([...MODULE_HEADER, 0x01, 0x05, 0x00]))).toThrow('section 1 runs past the end of the file');
    expect(listSections(Uint8Array.from(MODULE_HEADER))).toEqual([]);
  });

  it('tells components from modules and finds every core module inside, nested ones too', () => {
    const core = (n: number) => [...MODULE_HEADER, 0x00, 0x02, 0x01, 0x30 + n];
    const section = (id: number, body: number[]) => [id, ...writeU32Leb(body.length), ...body];
    const inner = [...COMPONENT_HEADER, ...section(1, core(2))];
    const outer = Uint8Array.from([...COMPONENT_HEADER, ...section(1, core(1)), ...section(4, inner), ...section(1, core(3))]);
    expect(isComponent(outer)).toBe(true);
    expect(isComponent(Uint8Array.from(MODULE_HEADER))).toBe(false);
    expect(isComponent(Uint8Array.from(COMPONENT_HEADER.slice(0, 7)))).toBe(false);
    expect(coreModulesOf(outer).map((m) => String.fromCharCode(m[m.length - 1]))).toEqual(['1', '2', '3']);
    expect(() => coreModulesOf(Uint8Array.from(MODULE_HEADER))).toThrow('expected a WebAssembly component, got a core module');
  });
});
