/**
 * The few reads and rewrites of the WebAssembly binary format that the JavaScript
 * toolchain needs: core modules out of a component, imports (with their function
 * types), exported globals' values, import renaming, and folding constant global
 * initializers. Small on purpose: binaryen does the heavy lifting (merge, optimize).
 */
import { writeU32Leb } from '../../runtime/module.js';

export class WasmBinaryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmBinaryError';
  }
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
export const SECTION = {
  custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7, start: 8, elem: 9,
  code: 10, data: 11, dataCount: 12, tag: 13,
} as const;
/** Component-model sections that hold core modules and nested components. */
const COMPONENT_SECTION = { coreModule: 1, component: 4 } as const;

const utf8 = new TextDecoder();
const utf8Encode = new TextEncoder();

/** A forward-only reader over a byte range. */
export class Reader {
  constructor(
    readonly bytes: Uint8Array,
    public at: number,
    readonly end = bytes.length,
  ) {}

  get done(): boolean {
    return this.at >= this.end;
  }

  byte(): number {
    if (this.at >= this.end) throw new WasmBinaryError('unexpected end of section');
    return this.bytes[this.at++];
  }

  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new WasmBinaryError('LEB128 number too long');
    }
  }

  /** Signed LEB128 (i32/i64 constants), as a bigint so i64 is exact. */
  sleb(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) {
        if (b & 0x40) result -= 1n << shift;
        return result;
      }
    }
  }

  name(): string {
    const len = this.u32();
    const start = this.at;
    this.at += len;
    if (this.at > this.end) throw new WasmBinaryError('name runs past the end of its section');
    return utf8.decode(this.bytes.subarray(start, this.at));
  }

  skip(count: number): void {
    this.at += count;
  }
}

/** Unsigned LEB128, shared with the runtime's binary helpers. */
export const writeU32 = writeU32Leb;

function writeSleb(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const signBit = (b & 0x40) !== 0;
    if ((v === 0n && !signBit) || (v === -1n && signBit)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export function writeName(name: string): number[] {
  const bytes = utf8Encode.encode(name);
  return [...writeU32(bytes.length), ...bytes];
}

/** Builds a byte sequence from small pushes and large copied slices (no per-byte work for slices). */
export class ByteWriter {
  private parts: Uint8Array[] = [];
  private small: number[] = [];

  push(...values: number[]): void {
    for (const v of values) this.small.push(v);
  }

  copy(source: Uint8Array, from: number, to: number): void {
    if (to <= from) return;
    this.flush();
    this.parts.push(source.subarray(from, to));
  }

  private flush(): void {
    if (this.small.length) {
      this.parts.push(Uint8Array.from(this.small));
      this.small = [];
    }
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

export interface Section {
  id: number;
  /** Offset of the section id byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the section. */
  end: number;
}

/** Lists the top-level sections of a module or component. */
export function sections(bytes: Uint8Array): Section[] {
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== MAGIC[i]) throw new WasmBinaryError('not a WebAssembly binary (bad magic number)');
  }
  const out: Section[] = [];
  const r = new Reader(bytes, 8);
  while (!r.done) {
    const start = r.at;
    const id = r.byte();
    const size = r.u32();
    const contentStart = r.at;
    r.skip(size);
    if (r.at > bytes.length) throw new WasmBinaryError(`section ${id} runs past the end of the binary`);
    out.push({ id, start, contentStart, end: r.at });
  }
  return out;
}

/** True for a component (layer 1), false for a core module. */
export function isComponent(bytes: Uint8Array): boolean {
  // Core modules have version 1 and layer 0; components a draft version and layer 1.
  return bytes.length >= 8 && bytes[6] === 0x01 && bytes[7] === 0x00;
}

/**
 * Every core module embedded in a component, nested components included, in binary order.
 * (What `jco transpile` writes out as files, without its ~1 s of JavaScript generation.)
 */
export function coreModulesOf(component: Uint8Array): Uint8Array[] {
  if (!isComponent(component)) throw new WasmBinaryError('expected a WebAssembly component, got a core module');
  const found: Uint8Array[] = [];
  const walk = (bytes: Uint8Array) => {
    for (const s of sections(bytes)) {
      const content = bytes.subarray(s.contentStart, s.end);
      if (s.id === COMPONENT_SECTION.coreModule) found.push(content);
      else if (s.id === COMPONENT_SECTION.component) walk(content);
    }
  };
  walk(component);
  return found;
}

export type ImportKind = 'func' | 'table' | 'memory' | 'global' | 'tag';

export interface FuncType {
  params: string[];
  results: string[];
}

export interface Import {
  module: string;
  name: string;
  kind: ImportKind;
  /** Function imports: the signature. */
  type?: FuncType;
  /** Global imports: value type and mutability. */
  global?: { valtype: string; mutable: boolean };
  /** Table and memory imports: the minimum size (elements or pages). */
  minimum?: number;
}

export interface Export {
  name: string;
  kind: ImportKind;
  index: number;
}

export interface ModuleInfo {
  imports: Import[];
  exports: Export[];
  /** Defined globals (index after imported globals) with a constant i32 initializer. */
  globalInits: Map<number, number>;
  /** Number of imported globals (defined globals' indices start here). */
  importedGlobals: number;
}

const VALTYPES: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };
const KINDS: ImportKind[] = ['func', 'table', 'memory', 'global', 'tag'];

export function valtype(r: Reader): string {
  const b = r.byte();
  if (b === 0x63 || b === 0x64) {
    r.sleb(); // (ref null? heaptype)
    return 'ref';
  }
  const t = VALTYPES[b];
  if (!t) throw new WasmBinaryError(`unsupported value type 0x${b.toString(16)}`);
  return t;
}

export function limits(r: Reader): { min: number; max?: number } {
  const flags = r.byte();
  const min = r.u32();
  return flags & 0x01 ? { min, max: r.u32() } : { min };
}

export function readTypes(bytes: Uint8Array, s: Section): FuncType[] {
  const r = new Reader(bytes, s.contentStart, s.end);
  const types: FuncType[] = [];
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const form = r.byte();
    if (form !== 0x60) throw new WasmBinaryError(`unsupported type form 0x${form.toString(16)} (only function types are expected)`);
    const params = Array.from({ length: r.u32() }, () => valtype(r));
    const results = Array.from({ length: r.u32() }, () => valtype(r));
    types.push({ params, results });
  }
  return types;
}

/** Reads one import entry's descriptor; returns the parsed import (without module/name). */
export function importDesc(r: Reader, types: FuncType[]): Omit<Import, 'module' | 'name'> {
  const kindByte = r.byte();
  const kind = KINDS[kindByte];
  if (!kind) throw new WasmBinaryError(`unsupported import kind ${kindByte}`);
  switch (kind) {
    case 'func':
      return { kind, type: types[r.u32()] };
    case 'table':
      valtype(r);
      return { kind, minimum: limits(r).min };
    case 'memory':
      return { kind, minimum: limits(r).min };
    case 'global': {
      const vt = valtype(r);
      return { kind, global: { valtype: vt, mutable: r.byte() === 1 } };
    }
    case 'tag':
      r.byte();
      r.u32();
      return { kind };
  }
}

/** Imports, exports and constant global initializers of a core module. */
export function readModule(bytes: Uint8Array): ModuleInfo {
  const secs = sections(bytes);
  const typeSec = secs.find((s) => s.id === SECTION.type);
  const types = typeSec ? readTypes(bytes, typeSec) : [];
  const imports: Import[] = [];
  const exports: Export[] = [];
  const globalInits = new Map<number, number>();
  let importedGlobals = 0;
  for (const s of secs) {
    const r = new Reader(bytes, s.contentStart, s.end);
    if (s.id === SECTION.import) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const module = r.name();
        const name = r.name();
        const desc = importDesc(r, types);
        if (desc.kind === 'global') importedGlobals++;
        imports.push({ module, name, ...desc });
      }
    } else if (s.id === SECTION.export) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const name = r.name();
        const kind = KINDS[r.byte()];
        exports.push({ name, kind, index: r.u32() });
      }
    } else if (s.id === SECTION.global) {
      const count = r.u32();
      for (let i = 0; i < count; i++) {
        const vt = valtype(r);
        r.byte();
        // Only initializers made of constants are recorded; anything else is skipped.
        const exprStart = r.at;
        const value = vt === 'i32' ? evalConstExpr(r, 'i32') : undefined;
        if (value !== undefined) {
          globalInits.set(importedGlobals + i, Number(value));
          continue;
        }
        r.at = exprStart;
        skipConstExprRest(r, r.byte());
      }
    }
  }
  return { imports, exports, globalInits, importedGlobals };
}

/** Skips the rest of a constant expression whose first opcode was already read. */
export function skipConstExprRest(r: Reader, first: number): void {
  let op = first;
  for (;;) {
    switch (op) {
      case 0x0b:
        return;
      case 0x41:
      case 0x42:
        r.sleb();
        break;
      case 0x43:
        r.skip(4);
        break;
      case 0x44:
        r.skip(8);
        break;
      case 0x23: // global.get
      case 0xd2: // ref.func
        r.u32();
        break;
      case 0xd0: // ref.null
        r.sleb();
        break;
      case 0x6a: // i32.add
      case 0x6b: // i32.sub
      case 0x6c: // i32.mul
      case 0x7c: // i64.add
      case 0x7d: // i64.sub
      case 0x7e: // i64.mul
        break;
      default:
        throw new WasmBinaryError(`unsupported opcode 0x${op.toString(16)} in a constant expression`);
    }
    op = r.byte();
  }
}

/** Value of an exported i32 global with a constant initializer (throws when there is none). */
export function exportedGlobalValue(info: ModuleInfo, name: string): number {
  const exp = info.exports.find((e) => e.name === name && e.kind === 'global');
  if (!exp) throw new WasmBinaryError(`the module exports no global "${name}"`);
  const value = info.globalInits.get(exp.index);
  if (value === undefined) throw new WasmBinaryError(`global "${name}" has no constant i32 initializer`);
  return value;
}

function replaceSection(bytes: Uint8Array, s: Section, id: number, content: number[] | Uint8Array): Uint8Array {
  const head = [id, ...writeU32(content.length)];
  const out = new Uint8Array(s.start + head.length + content.length + (bytes.length - s.end));
  out.set(bytes.subarray(0, s.start));
  out.set(head, s.start);
  out.set(content, s.start + head.length);
  out.set(bytes.subarray(s.end), s.start + head.length + content.length);
  return out;
}

/**
 * Rewrites every import's (module, name) through `rename`, which returns the new pair or
 * throws. Everything else in the binary is kept byte for byte.
 */
export function renameImports(
  bytes: Uint8Array,
  rename: (imp: Import) => { module: string; name: string },
): Uint8Array {
  const secs = sections(bytes);
  const importSec = secs.find((s) => s.id === SECTION.import);
  if (!importSec) return bytes;
  const typeSec = secs.find((s) => s.id === SECTION.type);
  const types = typeSec ? readTypes(bytes, typeSec) : [];
  const r = new Reader(bytes, importSec.contentStart, importSec.end);
  const count = r.u32();
  const content: number[] = writeU32(count);
  for (let i = 0; i < count; i++) {
    const module = r.name();
    const name = r.name();
    const descStart = r.at;
    const desc = importDesc(r, types);
    const renamed = rename({ module, name, ...desc });
    for (const byte of [...writeName(renamed.module), ...writeName(renamed.name)]) content.push(byte);
    for (let at = descStart; at < r.at; at++) content.push(bytes[at]);
  }
  return replaceSection(bytes, importSec, SECTION.import, content);
}

/**
 * Folds constant expressions built from constants and immutable globals
 * (`global.get $base; i32.const n; i32.add`, the extended-const form wasm-merge leaves when
 * it resolves a library's `__memory_base + n`) into one constant, in global initializers and
 * in element and data segment offsets, so engines without extended-const (Node 20) and
 * without GC-style global references accept the module.
 */
export function foldConstantExpressions(bytes: Uint8Array): Uint8Array {
  const info = readModule(bytes);
  const known = new Map<number, bigint>();
  let out = bytes;
  const globalSec = sections(out).find((s) => s.id === SECTION.global);
  if (globalSec) {
    const r = new Reader(out, globalSec.contentStart, globalSec.end);
    const count = r.u32();
    const content = new ByteWriter();
    content.push(...writeU32(count));
    for (let i = 0; i < count; i++) {
      const typeStart = r.at;
      const vt = valtype(r);
      const mutable = r.byte() === 1;
      content.copy(out, typeStart, r.at);
      const value = rewriteConstExpr(r, vt, known, content);
      if (!mutable && value !== undefined) known.set(info.importedGlobals + i, value);
    }
    out = replaceSection(out, globalSec, SECTION.global, content.finish());
  }
  for (const id of [SECTION.elem, SECTION.data]) {
    const sec = sections(out).find((s) => s.id === id);
    if (sec) out = replaceSection(out, sec, id, rewriteSegments(out, sec, known, id === SECTION.elem ? 'elem' : 'data'));
  }
  return out;
}

/**
 * Copies one constant expression into `content`, folded to a single constant when it
 * evaluates; returns its value (undefined when it does not evaluate).
 */
function rewriteConstExpr(r: Reader, vt: string, known: Map<number, bigint>, content: ByteWriter): bigint | undefined {
  const start = r.at;
  const value = vt === 'i32' || vt === 'i64' ? evalConstExpr(r, vt, known) : undefined;
  if (value === undefined) {
    r.at = start;
    skipConstExprRest(r, r.byte());
    content.copy(r.bytes, start, r.at);
    return undefined;
  }
  content.push(vt === 'i32' ? 0x41 : 0x42, ...writeSleb(value), 0x0b);
  return value;
}

/** Rewrites the offset expressions of an element or data section; everything else is copied. */
function rewriteSegments(bytes: Uint8Array, s: Section, known: Map<number, bigint>, kind: 'elem' | 'data'): Uint8Array {
  const r = new Reader(bytes, s.contentStart, s.end);
  const count = r.u32();
  const content = new ByteWriter();
  content.push(...writeU32(count));
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    content.push(...writeU32(flags));
    if (kind === 'data') {
      // 0: active (memory 0), 1: passive, 2: active with an explicit memory.
      let from = r.at;
      if (flags === 2) r.u32();
      content.copy(bytes, from, r.at);
      if (flags !== 1) rewriteConstExpr(r, 'i32', known, content);
      from = r.at;
      r.skip(r.u32());
      content.copy(bytes, from, r.at);
      continue;
    }
    // Element segments: bit 0 = passive or declarative, bit 1 = explicit table (active) or
    // declarative (not active), bit 2 = expressions instead of function indices.
    const active = (flags & 1) === 0;
    const explicit = (flags & 2) !== 0;
    const exprs = (flags & 4) !== 0;
    let from = r.at;
    if (active && explicit) r.u32();
    content.copy(bytes, from, r.at);
    if (active) rewriteConstExpr(r, 'i32', known, content);
    from = r.at;
    if (!active || explicit) {
      if (exprs) valtype(r);
      else r.byte(); // elemkind
    }
    const n = r.u32();
    for (let k = 0; k < n; k++) {
      if (exprs) skipConstExprRest(r, r.byte());
      else r.u32();
    }
    content.copy(bytes, from, r.at);
  }
  return content.finish();
}

/** Evaluates a constant expression of consts, known globals and arithmetic; undefined when it has anything else. */
function evalConstExpr(r: Reader, vt: 'i32' | 'i64', known?: Map<number, bigint>): bigint | undefined {
  const stack: bigint[] = [];
  const wrap = (v: bigint) => (vt === 'i32' ? BigInt.asIntN(32, v) : BigInt.asIntN(64, v));
  for (;;) {
    const op = r.byte();
    if (op === 0x0b) return stack.length === 1 ? stack[0] : undefined;
    if (op === 0x41 || op === 0x42) {
      stack.push(r.sleb());
      continue;
    }
    if (op === 0x23) {
      const value = known?.get(r.u32());
      if (value === undefined) return undefined;
      stack.push(value);
      continue;
    }
    const arith: Record<number, (a: bigint, b: bigint) => bigint> = {
      0x6a: (a, b) => a + b, 0x6b: (a, b) => a - b, 0x6c: (a, b) => a * b,
      0x7c: (a, b) => a + b, 0x7d: (a, b) => a - b, 0x7e: (a, b) => a * b,
    };
    const f = arith[op];
    if (!f || stack.length < 2) return undefined;
    const b = stack.pop()!;
    const a = stack.pop()!;
    stack.push(wrap(f(a, b)));
  }
}

/** Reads the names of the libraries a dynamic library needs (the dylink.0 NEEDED subsection). */
export function dylinkNeeded(bytes: Uint8Array): string[] {
  for (const s of sections(bytes)) {
    if (s.id !== SECTION.custom) continue;
    const r = new Reader(bytes, s.contentStart, s.end);
    if (r.name() !== 'dylink.0') continue;
    while (!r.done) {
      const type = r.byte();
      const size = r.u32();
      const next = r.at + size;
      if (type === 2 /* WASM_DYLINK_NEEDED */) {
        return Array.from({ length: r.u32() }, () => r.name());
      }
      r.at = next;
    }
  }
  return [];
}

/** Drops every export whose name is not in `keep` (wasm-merge exports everything it merged). */
export function keepOnlyExports(bytes: Uint8Array, keep: string[]): Uint8Array {
  const secs = sections(bytes);
  const exportSec = secs.find((s) => s.id === SECTION.export);
  if (!exportSec) return bytes;
  const r = new Reader(bytes, exportSec.contentStart, exportSec.end);
  const count = r.u32();
  const kept: number[] = [];
  let n = 0;
  for (let i = 0; i < count; i++) {
    const start = r.at;
    const name = r.name();
    r.byte();
    r.u32();
    if (!keep.includes(name)) continue;
    n++;
    for (let at = start; at < r.at; at++) kept.push(bytes[at]);
  }
  return replaceSection(bytes, exportSec, SECTION.export, [...writeU32(n), ...kept]);
}
