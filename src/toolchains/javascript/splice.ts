/**
 * Re-linking, part 3: splices a build's main module into the linked engine (runtime + glue +
 * host, see link.ts). The main module holds no code anything calls: it owns the memory, the
 * table, the base globals and the Wizer snapshot (its data segments). So instead of merging
 * it, the engine's imports from "main" are replaced by definitions copied from main:
 *
 * - the memory and table imports become a defined memory and table with main's limits;
 * - the imported globals become the first defined globals, initialized as main initializes
 *   them (imported globals come first in the index space, so no index in the code moves);
 * - main's data segments are appended after the engine's (no data index moves either).
 *
 * The engine is the same for every script, so it is linked once and cached; a build only
 * componentizes and splices (milliseconds instead of seconds of wasm-merge).
 */
import { concatBytes, limits, Reader, SECTION, sections, skipConstExprRest, valtype, WasmFormatError, writeU32Leb } from '../../runtime/wasm-binary.js';
import { importDesc, readTypes } from '../../runtime/wasm-imports.js';
import { readModule } from './const-exprs.js';

/** Section order of the binary format (custom sections go last). */
const ORDER = [
  SECTION.type, SECTION.import, SECTION.function, SECTION.table, SECTION.memory, SECTION.tag, SECTION.global,
  SECTION.export, SECTION.start, SECTION.elem, SECTION.dataCount, SECTION.code, SECTION.data,
];

interface MainEntities {
  /** Raw bytes of the memory type (limits) of main's memory export. */
  memory: Uint8Array;
  /** Raw bytes of the table type of main's table export. */
  table: Uint8Array;
  /** Raw bytes (type, mutability, init expression) of each exported global, by export name. */
  globals: Map<string, { bytes: Uint8Array; valtype: string; mutable: boolean }>;
  /** The data section's segments, raw, and their count. */
  data: { count: number; bytes: Uint8Array };
}

/** Reads the entities the engine imports from main. */
function readMain(main: Uint8Array): MainEntities {
  const secs = sections(main);
  const info = readModule(main);
  const find = (id: number) => secs.find((s) => s.id === id);
  const only = (id: number, what: string): Uint8Array => {
    const s = find(id);
    if (!s) throw new WasmFormatError(`the main module defines no ${what}`);
    const r = new Reader(main, s.contentStart, s.end);
    if (r.u32() !== 1) throw new WasmFormatError(`the main module defines more than one ${what}`);
    const start = r.at;
    if (id === SECTION.table) valtype(r);
    limits(r);
    return main.subarray(start, r.at);
  };
  if (info.imports.some((i) => i.kind !== 'function')) throw new WasmFormatError('the main module imports a memory, table or global');

  const globals = new Map<string, { bytes: Uint8Array; valtype: string; mutable: boolean }>();
  const globalSec = find(SECTION.global);
  const defined: { bytes: Uint8Array; valtype: string; mutable: boolean }[] = [];
  if (globalSec) {
    const r = new Reader(main, globalSec.contentStart, globalSec.end);
    const count = r.u32();
    for (let i = 0; i < count; i++) {
      const start = r.at;
      const vt = valtype(r);
      const mutable = r.byte() === 1;
      // Copied as they are, so they must not refer to main's own index space.
      const op = r.byte();
      if (op < 0x41 || op > 0x44) throw new WasmFormatError(`main's global ${i} is not initialized with a constant`);
      skipConstExprRest(r, op);
      defined.push({ bytes: main.subarray(start, r.at), valtype: vt, mutable });
    }
  }
  for (const e of info.exports) if (e.kind === 'global') globals.set(e.name, defined[e.index - info.importedGlobals]);

  const dataSec = find(SECTION.data);
  let data: { count: number; bytes: Uint8Array } = { count: 0, bytes: new Uint8Array(0) };
  if (dataSec) {
    const r = new Reader(main, dataSec.contentStart, dataSec.end);
    const count = r.u32();
    data = { count, bytes: main.subarray(r.at, dataSec.end) };
  }
  return { memory: only(SECTION.memory, 'memory'), table: only(SECTION.table, 'table'), globals, data };
}

function section(id: number, body: Uint8Array[]): Uint8Array {
  const size = body.reduce((n, p) => n + p.length, 0);
  return concatBytes([Uint8Array.from([id, ...writeU32Leb(size)]), ...body]);
}

const u32 = (n: number) => Uint8Array.from(writeU32Leb(n));

/** Replaces the engine's imports from `mainName` with main's definitions (see the file comment). */
export function spliceMain(engine: Uint8Array, main: Uint8Array, mainName: string): Uint8Array {
  const m = readMain(main);
  const secs = sections(engine);
  const find = (id: number) => secs.find((s) => s.id === id);
  if (find(SECTION.memory) || find(SECTION.table)) {
    throw new WasmFormatError('the linked engine defines its own memory or table; expected to import main\'s');
  }
  const typeSec = find(SECTION.type);
  const types = typeSec ? readTypes(engine, typeSec) : [];

  // Imports: keep all but main's; collect main's globals in import (= index) order.
  const keptImports: Uint8Array[] = [];
  const newGlobals: Uint8Array[] = [];
  let memory = false;
  let table = false;
  const importSec = find(SECTION.import);
  if (importSec) {
    const r = new Reader(engine, importSec.contentStart, importSec.end);
    const count = r.u32();
    for (let i = 0; i < count; i++) {
      const start = r.at;
      const module = r.name();
      const name = r.name();
      const desc = importDesc(r, types);
      if (module !== mainName) {
        if (desc.kind !== 'function') throw new WasmFormatError(`the linked engine imports the ${desc.kind} ${module}.${name}; only functions may stay imports`);
        keptImports.push(engine.subarray(start, r.at));
        continue;
      }
      if (desc.kind === 'memory') {
        if (memory) throw new WasmFormatError('the linked engine imports main\'s memory twice');
        memory = true;
      } else if (desc.kind === 'table') {
        if (table) throw new WasmFormatError('the linked engine imports main\'s table twice');
        table = true;
      } else if (desc.kind === 'global') {
        const g = m.globals.get(name);
        if (!g) throw new WasmFormatError(`the main module exports no global "${name}"`);
        if (g.valtype !== desc.global!.valtype || g.mutable !== desc.global!.mutable) {
          throw new WasmFormatError(`global "${name}" is ${g.mutable ? 'mutable' : 'immutable'} ${g.valtype} in main but imported differently`);
        }
        newGlobals.push(g.bytes);
      } else {
        throw new WasmFormatError(`the linked engine imports the ${desc.kind} ${module}.${name}; main provides no code`);
      }
    }
  }
  if (!memory) throw new WasmFormatError('the linked engine does not import main\'s memory');

  const out: Uint8Array[] = [engine.subarray(0, 8)];
  const dataSec = find(SECTION.data);
  let engineDataCount = 0;
  let engineData: Uint8Array = new Uint8Array(0);
  if (dataSec) {
    const r = new Reader(engine, dataSec.contentStart, dataSec.end);
    engineDataCount = r.u32();
    engineData = engine.subarray(r.at, dataSec.end);
  }
  const totalData = engineDataCount + m.data.count;

  for (const id of ORDER) {
    const existing = find(id);
    switch (id) {
      case SECTION.import:
        out.push(section(id, [u32(keptImports.length), ...keptImports]));
        break;
      case SECTION.table:
        if (table) out.push(section(id, [u32(1), m.table]));
        break;
      case SECTION.memory:
        out.push(section(id, [u32(1), m.memory]));
        break;
      case SECTION.global: {
        let ownCount = 0;
        let ownBytes: Uint8Array = new Uint8Array(0);
        if (existing) {
          const r = new Reader(engine, existing.contentStart, existing.end);
          ownCount = r.u32();
          ownBytes = engine.subarray(r.at, existing.end);
        }
        out.push(section(id, [u32(newGlobals.length + ownCount), ...newGlobals, ownBytes]));
        break;
      }
      case SECTION.dataCount:
        if (existing) out.push(section(id, [u32(totalData)]));
        break;
      case SECTION.data:
        if (totalData > 0) out.push(section(id, [u32(totalData), engineData, m.data.bytes]));
        break;
      default:
        if (existing) out.push(engine.subarray(existing.start, existing.end));
    }
  }
  // Custom sections (names, producers) keep their content; they may follow any section.
  for (const c of secs.filter((s) => s.id === SECTION.custom)) out.push(engine.subarray(c.start, c.end));
  return concatBytes(out);
}
