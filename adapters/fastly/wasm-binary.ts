/**
 * The few reads and rewrites of the WebAssembly binary format the Fastly target needs
 * (binaryen.js has no setter to rename an import): imports with their function types,
 * renaming an import module or an export, keeping only some exports. Each rewrite
 * replaces one section and keeps every other byte.
 */
import { appendAll, encodeName, listSections, readName, readU32Leb, replaceSection, WasmFormatError, writeU32Leb, type Section } from '../../src/runtime/module.js';
import { skipImportDesc } from '../../src/runtime/wasm-imports.js';

export { formatFuncType, readFuncTypes, readImports, type FuncType, type ImportEntry, type ValType } from '../../src/runtime/wasm-imports.js';

/** Renames imports: `rename` gets each import's module and name and returns the new ones. */
export function renameImports(bytes: Uint8Array, rename: (module: string, name: string) => [string, string]): Uint8Array {
  const section = listSections(bytes).find((s) => s.id === 2);
  if (!section) return bytes;
  const count = readU32Leb(bytes, section.start);
  const payload: number[] = [...writeU32Leb(count.value)];
  let at = count.next;
  for (let i = 0; i < count.value; i++) {
    const mod = readName(bytes, at);
    const name = readName(bytes, mod.next);
    const desc = skipImportDesc(bytes, bytes[name.next], name.next + 1);
    const [newModule, newName] = rename(mod.value, name.value);
    appendAll(payload, encodeName(newModule));
    appendAll(payload, encodeName(newName));
    for (let b = name.next; b < desc.next; b++) payload.push(bytes[b]);
    at = desc.next;
  }
  return replaceSection(bytes, section, section.id, payload);
}

/** Renames the module of every import from `from` to `to`. */
export function renameImportModule(bytes: Uint8Array, from: string, to: string): Uint8Array {
  return renameImports(bytes, (module, name) => [module === from ? to : module, name]);
}

interface ExportEntry {
  name: string;
  /** The bytes after the name (kind + index). */
  rest: Uint8Array;
}

function readExportEntries(bytes: Uint8Array, section: Section): ExportEntry[] {
  const count = readU32Leb(bytes, section.start);
  let at = count.next;
  const out: ExportEntry[] = [];
  for (let i = 0; i < count.value; i++) {
    const name = readName(bytes, at);
    const index = readU32Leb(bytes, name.next + 1);
    out.push({ name: name.value, rest: bytes.subarray(name.next, index.next) });
    at = index.next;
  }
  return out;
}

function writeExports(bytes: Uint8Array, section: Section, entries: ExportEntry[]): Uint8Array {
  const payload: number[] = [...writeU32Leb(entries.length)];
  for (const e of entries) {
    appendAll(payload, encodeName(e.name));
    appendAll(payload, e.rest);
  }
  return replaceSection(bytes, section, section.id, payload);
}

export function renameExport(bytes: Uint8Array, from: string, to: string): Uint8Array {
  const section = listSections(bytes).find((s) => s.id === 7);
  if (!section) throw new WasmFormatError('the module has no exports');
  const entries = readExportEntries(bytes, section);
  if (!entries.some((e) => e.name === from)) throw new WasmFormatError(`the module does not export "${from}"`);
  return writeExports(bytes, section, entries.map((e) => (e.name === from ? { ...e, name: to } : e)));
}

export function keepExports(bytes: Uint8Array, names: string[]): Uint8Array {
  const section = listSections(bytes).find((s) => s.id === 7);
  if (!section) return bytes;
  return writeExports(bytes, section, readExportEntries(bytes, section).filter((e) => names.includes(e.name)));
}
