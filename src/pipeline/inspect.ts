/** `wfn inspect`: what a .wasm holds, and whether it follows the contract. Reads the binary only. */
import { checkContract, usesKv, usesOutbound } from '../runtime/contract.js';
import { WASM_PAGE } from '../runtime/module.js';
import { componentWorld, proxyWorldProblems } from './component-world.js';
import { coreModulesOf, definedMemories, isComponent, listSections, readCustomSection, readName, Reader, readU32Leb, skipConstExprRest, WasmFormatError } from '../runtime/wasm-binary.js';
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
  /** The module imports wfn_kv_v1: it uses key-value stores (the ones named in [kv] stores of wfn.toml). */
  kv: boolean;
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

function dataStats(bytes: Uint8Array, start: number, end: number): { segments: number; bytes: number } {
  const r = new Reader(bytes, start, end);
  const count = r.u32();
  let total = 0;
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    if (flags === 2) r.u32(); // explicit memory index
    if (flags !== 1) skipConstExprRest(r, r.byte()); // the offset expression
    const len = r.u32();
    total += len;
    r.skip(len);
  }
  return { segments: count, bytes: total };
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
  const data = dataSection ? dataStats(bytes, dataSection.contentStart, dataSection.end) : { segments: 0, bytes: 0 };
  const exports = module ? WebAssembly.Module.exports(module) : [];
  const problems = module ? checkContract(module, { bytes }) : [`not a valid module: ${validationError}`];
  const producers = producersSection ? parseProducers(bytes, producersSection.contentStart, producersSection.end) : undefined;
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
    sections: sections.map((s) => ({ id: s.id, name: SECTION_NAMES[s.id] ?? `unknown(${s.id})`, size: s.end - s.contentStart, ...(s.name !== undefined ? { customName: s.name } : {}) })),
    customSections: custom.map((s) => s.name ?? ''),
    producers,
    contract: { conforms: problems.length === 0, problems },
    outbound: module ? usesOutbound(module) : false,
    kv: module ? usesKv(module) : false,
    snapshot,
  };
}

/** A component (`wfn deploy --target component` writes one): its world, and whether it is a wasi:http/proxy component. */
export interface ComponentInspection {
  kind: 'component';
  size: number;
  /** Core modules inside it. */
  coreModules: number;
  world: { imports: string[]; exports: string[] };
  proxy: { conforms: boolean; problems: string[] };
}

export { isComponent };

export async function inspectComponent(bytes: Uint8Array): Promise<ComponentInspection> {
  let world;
  try {
    world = await componentWorld(bytes);
  } catch (error) {
    throw new WasmFormatError(`not a valid component: ${(error as Error).message}`);
  }
  const problems = proxyWorldProblems(world);
  return {
    kind: 'component',
    size: bytes.length,
    coreModules: coreModulesOf(bytes).length,
    world: { imports: world.imports, exports: world.exports },
    proxy: { conforms: problems.length === 0, problems },
  };
}

export { WasmFormatError };
