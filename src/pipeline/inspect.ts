/** `wfn inspect`: what a .wasm holds, and whether it follows the contract. Reads the binary only. */
import { checkContract, usesOutbound } from '../runtime/contract.js';
import { definedMemories, listSections, readCustomSection, readName, readU32Leb, WASM_PAGE, WasmFormatError } from '../runtime/module.js';
import { INIT_FUNC } from './snapshot.js';

const SECTION_NAMES: Record<number, string> = {
  0: 'custom', 1: 'type', 2: 'import', 3: 'function', 4: 'table', 5: 'memory', 6: 'global', 7: 'export',
  8: 'start', 9: 'element', 10: 'code', 11: 'data', 12: 'datacount', 13: 'tag',
};

export interface Inspection {
  size: number;
  valid: boolean;
  validationError?: string;
  imports: { module: string; name: string; kind: string }[];
  exports: { name: string; kind: string }[];
  memories: { index: number; initialPages: number; maxPages?: number; initialBytes: number; shared: boolean; memory64: boolean }[];
  /** Bytes of data segments (the snapshot lives here after Wizer). */
  dataBytes: number;
  dataSegments: number;
  sections: { id: number; name: string; size: number; customName?: string }[];
  customSections: string[];
  producers?: Record<string, string[]>;
  contract: { conforms: boolean; problems: string[] };
  /** The module imports wfn_http_v1: it makes outbound HTTP calls (allowed by [outbound] in wfn.toml). */
  outbound: boolean;
  snapshot: { likely: boolean; initFunc?: string; evidence: string };
}

/** The producers custom section (language, processed-by, sdk). */
function parseProducers(bytes: Uint8Array, start: number, end: number): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let at = readName(bytes, start).next; // skip the section's own name
  const fields = readU32Leb(bytes, at);
  at = fields.next;
  for (let i = 0; i < fields.value && at < end; i++) {
    const field = readName(bytes, at);
    at = field.next;
    const count = readU32Leb(bytes, at);
    at = count.next;
    const values: string[] = [];
    for (let j = 0; j < count.value; j++) {
      const name = readName(bytes, at);
      const version = readName(bytes, name.next);
      at = version.next;
      values.push(version.value ? `${name.value} ${version.value}` : name.value);
    }
    out[field.value] = values;
  }
  return out;
}

/** Skips a constant expression (i32/i64.const, global.get, extended-const arithmetic) through its `end`. */
function skipConstExpr(bytes: Uint8Array, start: number): number {
  let at = start;
  for (;;) {
    const op = bytes[at++];
    if (op === 0x0b) return at;
    if (op === 0x41 || op === 0x42 || op === 0x23) {
      while (bytes[at] & 0x80) at++; // a (signed) LEB128 immediate
      at++;
    } else if (op === 0x44) at += 8; // f64.const
    else if (op === 0x43) at += 4; // f32.const
    else if (op !== 0x6a && op !== 0x6b && op !== 0x6c && op !== 0x7c && op !== 0x7d && op !== 0x7e) {
      throw new WasmFormatError(`unexpected opcode 0x${op.toString(16)} in a data segment offset`);
    }
  }
}

function dataStats(bytes: Uint8Array, start: number): { segments: number; bytes: number } {
  const count = readU32Leb(bytes, start);
  let at = count.next;
  let total = 0;
  for (let i = 0; i < count.value; i++) {
    const flags = readU32Leb(bytes, at);
    at = flags.next;
    if (flags.value === 2) at = readU32Leb(bytes, at).next; // explicit memory index
    if (flags.value !== 1) at = skipConstExpr(bytes, at);
    const len = readU32Leb(bytes, at);
    total += len.value;
    at = len.next + len.value;
  }
  return { segments: count.value, bytes: total };
}

function readBuildSection(bytes: Uint8Array): { snapshot: string | null; wfn: string } | undefined {
  const data = readCustomSection(bytes, 'wfn.build');
  if (!data) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(data)) as { snapshot: string | null; wfn: string };
  } catch {
    return undefined;
  }
}

export async function inspectWasm(bytes: Uint8Array): Promise<Inspection> {
  const sections = listSections(bytes); // throws WasmFormatError on non-wasm
  let module: WebAssembly.Module | undefined;
  let validationError: string | undefined;
  try {
    module = await WebAssembly.compile(bytes as BufferSource);
  } catch (error) {
    validationError = (error as Error).message;
  }
  const custom = sections.filter((s) => s.id === 0);
  const producersSection = custom.find((s) => s.name === 'producers');
  const dataSection = sections.find((s) => s.id === 11);
  const data = dataSection ? dataStats(bytes, dataSection.start) : { segments: 0, bytes: 0 };
  const exports = module ? WebAssembly.Module.exports(module) : [];
  const problems = module ? checkContract(module, { bytes }) : [`not a valid module: ${validationError}`];
  const producers = producersSection ? parseProducers(bytes, producersSection.start, producersSection.end) : undefined;
  const wizened = (producers?.['processed-by'] ?? []).some((p) => p.startsWith('wizer'));
  const built = readBuildSection(bytes);
  const hasInit = exports.some((e) => e.name === INIT_FUNC);
  const memories = definedMemories(bytes).map((m, index) => ({ index, initialPages: m.minPages, maxPages: m.maxPages, initialBytes: m.minPages * WASM_PAGE, shared: m.shared, memory64: m.memory64 }));
  // Wizer removes the init export and writes memory as many data segments; without a
  // producers entry, an init export that is gone plus large data is the best evidence.
  const snapshot = built?.snapshot
    ? { likely: true, initFunc: built.snapshot, evidence: `built by wfn ${built.wfn} with a Wizer snapshot` }
    : wizened
    ? { likely: true, initFunc: INIT_FUNC, evidence: 'producers section: processed-by wizer' }
    : hasInit
      ? { likely: false, initFunc: INIT_FUNC, evidence: `exports ${INIT_FUNC}: not snapshotted yet (wfn build snapshots it)` }
      : { likely: false, evidence: 'no wizer producer entry and no init export' };
  return {
    size: bytes.length,
    valid: !!module,
    validationError,
    imports: module ? WebAssembly.Module.imports(module) : [],
    exports,
    memories,
    dataBytes: data.bytes,
    dataSegments: data.segments,
    sections: sections.map((s) => ({ id: s.id, name: SECTION_NAMES[s.id] ?? `unknown(${s.id})`, size: s.end - s.start, ...(s.name !== undefined ? { customName: s.name } : {}) })),
    customSections: custom.map((s) => s.name ?? ''),
    producers,
    contract: { conforms: problems.length === 0, problems },
    outbound: module ? usesOutbound(module) : false,
    snapshot,
  };
}

export { WasmFormatError };
