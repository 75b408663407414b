/**
 * A module's imports with their function signatures, read from the binary (WebAssembly.Module
 * has no type reflection on Node 20): the contract check verifies the outbound API's
 * signatures with it, the Fastly target its hostcalls'.
 */
import { listSections, readName, readU32Leb, WasmFormatError } from './module.js';

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';

export interface FuncType {
  params: ValType[];
  results: ValType[];
}

export interface ImportEntry {
  module: string;
  name: string;
  kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
  /** For functions: the signature (undefined when the type section uses encodings we do not read). */
  type?: FuncType;
}

const VALTYPES: Record<number, ValType> = {
  0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref',
};
const KINDS = ['function', 'table', 'memory', 'global', 'tag'] as const;

function skipLimits(bytes: Uint8Array, at: number): number {
  const flags = bytes[at++];
  at = readU32Leb(bytes, at).next;
  if (flags & 1) at = readU32Leb(bytes, at).next;
  return at;
}

/** Skips an import's description; returns the next offset and, for functions, the type index. */
export function skipImportDesc(bytes: Uint8Array, kind: number, at: number): { next: number; typeIndex?: number } {
  switch (kind) {
    case 0: {
      const t = readU32Leb(bytes, at);
      return { next: t.next, typeIndex: t.value };
    }
    case 1: // table: reftype, limits
      return { next: skipLimits(bytes, at + 1) };
    case 2:
      return { next: skipLimits(bytes, at) };
    case 3: // global: valtype, mutability
      return { next: at + 2 };
    case 4: // tag: attribute, type index
      return { next: readU32Leb(bytes, at + 1).next };
    default:
      throw new WasmFormatError(`unknown import kind ${kind}`);
  }
}

/** Function types by index; undefined when the section holds types this reader does not know (GC). */
export function readFuncTypes(bytes: Uint8Array): FuncType[] | undefined {
  const section = listSections(bytes).find((s) => s.id === 1);
  if (!section) return [];
  const count = readU32Leb(bytes, section.start);
  let at = count.next;
  const types: FuncType[] = [];
  const readVec = (): ValType[] | undefined => {
    const n = readU32Leb(bytes, at);
    at = n.next;
    const out: ValType[] = [];
    for (let i = 0; i < n.value; i++) {
      const t = VALTYPES[bytes[at++]];
      if (!t) return undefined;
      out.push(t);
    }
    return out;
  };
  for (let i = 0; i < count.value; i++) {
    if (bytes[at++] !== 0x60) return undefined;
    const params = readVec();
    const results = params && readVec();
    if (!params || !results) return undefined;
    types.push({ params, results });
  }
  return types;
}

export function readImports(bytes: Uint8Array): ImportEntry[] {
  const section = listSections(bytes).find((s) => s.id === 2);
  if (!section) return [];
  const types = readFuncTypes(bytes);
  const count = readU32Leb(bytes, section.start);
  let at = count.next;
  const out: ImportEntry[] = [];
  for (let i = 0; i < count.value; i++) {
    const mod = readName(bytes, at);
    const name = readName(bytes, mod.next);
    const kind = bytes[name.next];
    const desc = skipImportDesc(bytes, kind, name.next + 1);
    const entry: ImportEntry = { module: mod.value, name: name.value, kind: KINDS[kind] };
    if (kind === 0 && types) entry.type = types[desc.typeIndex!];
    out.push(entry);
    at = desc.next;
  }
  return out;
}

export function formatFuncType(type: FuncType | undefined): string {
  if (!type) return '?';
  return `(${type.params.join(', ')}) -> (${type.results.join(', ')})`;
}

