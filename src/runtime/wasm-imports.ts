/**
 * A module's imports with their function signatures, read from the binary (WebAssembly.Module
 * has no type reflection on Node 20), and the rewrite that renames them. Part of the one
 * binary codec (wasm-binary.ts): the JavaScript toolchain relinks with it, the Fastly target
 * renames and checks its hostcalls with it.
 */
import {
  ByteWriter,
  encodeName,
  EXTERN_KINDS,
  limits,
  Reader,
  replaceSection,
  SECTION,
  sections,
  valtype,
  WasmFormatError,
  writeU32Leb,
  type ExternKind,
  type Section,
  type ValType,
} from './wasm-binary.js';

export type { ValType };

export interface FuncType {
  params: ValType[];
  results: ValType[];
}

export interface ImportEntry {
  module: string;
  name: string;
  kind: ExternKind;
  /** Functions: the signature (undefined when the type section uses encodings this reader does not know). */
  type?: FuncType;
  /** Globals: value type and mutability. */
  global?: { valtype: ValType; mutable: boolean };
  /** Tables and memories: the minimum size (elements or pages). */
  minimum?: number;
}

/** The function types of a type section, by index; throws on a type this reader does not know (GC types). */
export function readTypes(bytes: Uint8Array, section: Section): FuncType[] {
  const r = new Reader(bytes, section.contentStart, section.end);
  const types: FuncType[] = [];
  const count = r.u32();
  for (let i = 0; i < count; i++) {
    const form = r.byte();
    if (form !== 0x60) throw new WasmFormatError(`unsupported type form 0x${form.toString(16)} (only function types are expected)`);
    const params = Array.from({ length: r.u32() }, () => valtype(r));
    const results = Array.from({ length: r.u32() }, () => valtype(r));
    types.push({ params, results });
  }
  return types;
}

/** The module's function types by index; undefined when the section holds types this reader does not know. */
export function readFuncTypes(bytes: Uint8Array): FuncType[] | undefined {
  const section = sections(bytes).find((s) => s.id === SECTION.type);
  if (!section) return [];
  try {
    return readTypes(bytes, section);
  } catch (error) {
    if (error instanceof WasmFormatError) return undefined;
    throw error;
  }
}

/** Reads one import entry's descriptor (after its module and name). */
export function importDesc(r: Reader, types: FuncType[] | undefined): Omit<ImportEntry, 'module' | 'name'> {
  const kindByte = r.byte();
  const kind = EXTERN_KINDS[kindByte];
  if (!kind) throw new WasmFormatError(`unknown import kind ${kindByte}`);
  switch (kind) {
    case 'function':
      return { kind, type: types?.[r.u32()] };
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

export function readImports(bytes: Uint8Array): ImportEntry[] {
  const section = sections(bytes).find((s) => s.id === SECTION.import);
  if (!section) return [];
  const types = readFuncTypes(bytes);
  const r = new Reader(bytes, section.contentStart, section.end);
  const count = r.u32();
  const out: ImportEntry[] = [];
  for (let i = 0; i < count; i++) {
    const module = r.name();
    const name = r.name();
    out.push({ module, name, ...importDesc(r, types) });
  }
  return out;
}

/**
 * Rewrites every import's (module, name) through `rename`, which returns the new pair or
 * throws. Everything else in the binary is kept byte for byte.
 */
export function renameImports(bytes: Uint8Array, rename: (imp: ImportEntry) => { module: string; name: string }): Uint8Array {
  const section = sections(bytes).find((s) => s.id === SECTION.import);
  if (!section) return bytes;
  const types = readFuncTypes(bytes);
  const r = new Reader(bytes, section.contentStart, section.end);
  const count = r.u32();
  const content = new ByteWriter();
  content.push(...writeU32Leb(count));
  for (let i = 0; i < count; i++) {
    const module = r.name();
    const name = r.name();
    const descStart = r.at;
    const renamed = rename({ module, name, ...importDesc(r, types) });
    content.bytes(encodeName(renamed.module));
    content.bytes(encodeName(renamed.name));
    content.copy(bytes, descStart, r.at);
  }
  return replaceSection(bytes, section, SECTION.import, content.finish());
}

export function formatFuncType(type: FuncType | undefined): string {
  if (!type) return '?';
  return `(${type.params.join(', ')}) -> (${type.results.join(', ')})`;
}
