/**
 * What the JavaScript toolchain reads and rewrites in componentize-qjs's core modules, on top
 * of the binary codec (src/runtime/wasm-binary.ts): the constant initializers of globals (the
 * table slots and bases main exports), and folding of extended-const expressions into
 * constants, which engines without extended-const (Node 20) need.
 */
import {
  ByteWriter,
  Reader,
  readExports,
  SECTION,
  sections,
  skipConstExprRest,
  valtype,
  WasmFormatError,
  writeSleb,
  writeU32Leb,
  replaceSection,
  type Export,
  type Section,
} from '../../runtime/wasm-binary.js';
import { readImports, type ImportEntry } from '../../runtime/wasm-imports.js';

export interface ModuleInfo {
  imports: ImportEntry[];
  exports: Export[];
  /** Defined globals (index after imported globals) with a constant i32 initializer. */
  globalInits: Map<number, number>;
  /** Number of imported globals (defined globals' indices start here). */
  importedGlobals: number;
}

/** Imports, exports and constant global initializers of a core module. */
export function readModule(bytes: Uint8Array): ModuleInfo {
  const imports = readImports(bytes);
  const importedGlobals = imports.filter((i) => i.kind === 'global').length;
  const globalInits = new Map<number, number>();
  const globalSec = sections(bytes).find((s) => s.id === SECTION.global);
  if (globalSec) {
    const r = new Reader(bytes, globalSec.contentStart, globalSec.end);
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
  return { imports, exports: readExports(bytes), globalInits, importedGlobals };
}

/** Value of an exported i32 global with a constant initializer (throws when there is none). */
export function exportedGlobalValue(info: ModuleInfo, name: string): number {
  const exp = info.exports.find((e) => e.name === name && e.kind === 'global');
  if (!exp) throw new WasmFormatError(`the module exports no global "${name}"`);
  const value = info.globalInits.get(exp.index);
  if (value === undefined) throw new WasmFormatError(`global "${name}" has no constant i32 initializer`);
  return value;
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
    content.push(...writeU32Leb(count));
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
  content.push(...writeU32Leb(count));
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    content.push(...writeU32Leb(flags));
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

