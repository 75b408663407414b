/**
 * The one reader and writer of the WebAssembly binary format in wfn: sections, LEB128,
 * names, custom sections, memories, exports, constant expressions, the core modules inside a
 * component, and rewrites that replace one section and keep every other byte. Imports and
 * function types are in wasm-imports.ts. Platform-neutral: the pipeline, the toolchains and
 * the adapters use it, and it is bundled into the Worker and Lambda shims (binaryen could do
 * all this, but it is 10+ MB and not bundleable). Payloads are built from pieces, never with
 * a spread: a data-sized array on the stack overflows it.
 */

export class WasmFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmFormatError';
  }
}

export const SECTION = {
  custom: 0, type: 1, import: 2, function: 3, table: 4, memory: 5, global: 6, export: 7, start: 8, elem: 9,
  code: 10, data: 11, dataCount: 12, tag: 13,
} as const;
/** Component-model sections that hold core modules and nested components. */
const COMPONENT_SECTION = { coreModule: 1, component: 4 } as const;

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
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
    if (this.at >= this.end) throw new WasmFormatError('unexpected end of section');
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
      if (shift > 35) throw new WasmFormatError('LEB128 number too long');
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
    if (this.at > this.end) throw new WasmFormatError('name runs past the end of its section');
    return utf8.decode(this.bytes.subarray(start, this.at));
  }

  skip(count: number): void {
    this.at += count;
  }
}

/** An unsigned LEB128 at `offset` and the offset after it. */
export function readU32Leb(bytes: Uint8Array, offset: number): { value: number; next: number } {
  const r = new Reader(bytes, offset);
  try {
    return { value: r.u32(), next: r.at };
  } catch (error) {
    throw error instanceof WasmFormatError && error.message.startsWith('unexpected end') ? new WasmFormatError('truncated LEB128 number') : error;
  }
}

/** A name (u32 length + UTF-8) at `at`. */
export function readName(bytes: Uint8Array, at: number): { value: string; next: number } {
  const r = new Reader(bytes, at);
  return { value: r.name(), next: r.at };
}

export function writeU32Leb(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

export function writeSleb(value: bigint): number[] {
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

/** A name as the binary format writes it: u32 length, then UTF-8. */
export function encodeName(name: string): Uint8Array {
  const bytes = utf8Encode.encode(name);
  const out = new Uint8Array(writeU32Leb(bytes.length).length + bytes.length);
  out.set(writeU32Leb(bytes.length));
  out.set(bytes, out.length - bytes.length);
  return out;
}

/** The pieces in one buffer. */
export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Builds a byte sequence from small pushes and large copied slices (no per-byte work for slices). */
export class ByteWriter {
  private parts: Uint8Array[] = [];
  private small: number[] = [];

  push(...values: number[]): void {
    for (const v of values) this.small.push(v);
  }

  bytes(part: Uint8Array): void {
    this.flush();
    this.parts.push(part);
  }

  copy(source: Uint8Array, from: number, to: number): void {
    if (to > from) this.bytes(source.subarray(from, to));
  }

  private flush(): void {
    if (this.small.length) {
      this.parts.push(Uint8Array.from(this.small));
      this.small = [];
    }
  }

  finish(): Uint8Array {
    this.flush();
    return concatBytes(this.parts);
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
  /** For custom sections (id 0): their name. */
  name?: string;
}

/** The top-level sections of a module or a component. */
export function sections(bytes: Uint8Array): Section[] {
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== MAGIC[i]) throw new WasmFormatError('not a WebAssembly binary (missing the \\0asm magic number)');
  }
  const out: Section[] = [];
  const r = new Reader(bytes, 8);
  while (!r.done) {
    const start = r.at;
    const id = r.byte();
    const size = r.u32();
    const contentStart = r.at;
    r.skip(size);
    if (r.at > bytes.length) throw new WasmFormatError(`section ${id} runs past the end of the file`);
    const section: Section = { id, start, contentStart, end: r.at };
    if (id === SECTION.custom) section.name = new Reader(bytes, contentStart, r.at).name();
    out.push(section);
  }
  return out;
}

/** The sections of a core module; a component or a later version is refused with the reason. */
export function listSections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) throw new WasmFormatError('not a WebAssembly binary (missing the \\0asm magic number)');
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new WasmFormatError('not a WebAssembly core module (version is not 1; a component?)');
  }
  return sections(bytes);
}

/** The module with one section's content replaced; every other byte kept. */
export function replaceSection(bytes: Uint8Array, section: Section, id: number, content: number[] | Uint8Array): Uint8Array {
  const head = [id, ...writeU32Leb(content.length)];
  const out = new Uint8Array(section.start + head.length + content.length + (bytes.length - section.end));
  out.set(bytes.subarray(0, section.start));
  out.set(head, section.start);
  out.set(content, section.start + head.length);
  out.set(bytes.subarray(section.end), section.start + head.length + content.length);
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
  if (!isComponent(component)) throw new WasmFormatError('expected a WebAssembly component, got a core module');
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

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref' | 'ref';
const VALTYPES: Record<number, ValType> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128', 0x70: 'funcref', 0x6f: 'externref' };

/** A value type; reference types with a heap type read as 'ref'. */
export function valtype(r: Reader): ValType {
  const b = r.byte();
  if (b === 0x63 || b === 0x64) {
    r.sleb(); // (ref null? heaptype)
    return 'ref';
  }
  const t = VALTYPES[b];
  if (!t) throw new WasmFormatError(`unsupported value type 0x${b.toString(16)}`);
  return t;
}

export interface Limits {
  min: number;
  max?: number;
  shared: boolean;
  memory64: boolean;
}

export function limits(r: Reader): Limits {
  const flags = r.byte();
  const min = r.u32();
  const max = flags & 0x01 ? r.u32() : undefined;
  return { min, max, shared: (flags & 0x02) !== 0, memory64: (flags & 0x04) !== 0 };
}

export interface MemoryLimits {
  minPages: number;
  maxPages?: number;
  shared: boolean;
  memory64: boolean;
}

/** The limits of the memories the module defines (not imported ones). */
export function definedMemories(bytes: Uint8Array): MemoryLimits[] {
  const section = listSections(bytes).find((s) => s.id === SECTION.memory);
  if (!section) return [];
  const r = new Reader(bytes, section.contentStart, section.end);
  return Array.from({ length: r.u32() }, () => {
    const { min, max, shared, memory64 } = limits(r);
    return { minPages: min, maxPages: max, shared, memory64 };
  });
}

/** A memory type as the binary format writes it. */
export function writeMemoryLimits(m: MemoryLimits): number[] {
  const flags = (m.maxPages !== undefined ? 1 : 0) | (m.shared ? 2 : 0) | (m.memory64 ? 4 : 0);
  return [flags, ...writeU32Leb(m.minPages), ...(m.maxPages !== undefined ? writeU32Leb(m.maxPages) : [])];
}

export type ExternKind = 'function' | 'table' | 'memory' | 'global' | 'tag';
/** The kinds by their byte in import and export entries (the JS API's names). */
export const EXTERN_KINDS: ExternKind[] = ['function', 'table', 'memory', 'global', 'tag'];

export interface Export {
  name: string;
  kind: ExternKind;
  index: number;
}

interface ExportEntry extends Export {
  /** The entry's bytes after its name (kind + index). */
  rest: Uint8Array;
}

function readExportEntries(bytes: Uint8Array, section: Section): ExportEntry[] {
  const r = new Reader(bytes, section.contentStart, section.end);
  const count = r.u32();
  const out: ExportEntry[] = [];
  for (let i = 0; i < count; i++) {
    const name = r.name();
    const restStart = r.at;
    const kind = EXTERN_KINDS[r.byte()];
    out.push({ name, kind, index: r.u32(), rest: bytes.subarray(restStart, r.at) });
  }
  return out;
}

export function readExports(bytes: Uint8Array): Export[] {
  const section = sections(bytes).find((s) => s.id === SECTION.export);
  return section ? readExportEntries(bytes, section).map(({ name, kind, index }) => ({ name, kind, index })) : [];
}

function rewriteExports(bytes: Uint8Array, section: Section, entries: ExportEntry[]): Uint8Array {
  const content = new ByteWriter();
  content.push(...writeU32Leb(entries.length));
  for (const e of entries) {
    content.bytes(encodeName(e.name));
    content.bytes(e.rest);
  }
  return replaceSection(bytes, section, SECTION.export, content.finish());
}

/** Renames exports (e.g. AssemblyScript's `wizer_initialize` to `wizer.initialize`); the module as it is when none matches. */
export function renameExports(bytes: Uint8Array, renames: Record<string, string>): Uint8Array {
  const section = sections(bytes).find((s) => s.id === SECTION.export);
  if (!section) return bytes;
  const entries = readExportEntries(bytes, section);
  if (!entries.some((e) => Object.hasOwn(renames, e.name))) return bytes;
  return rewriteExports(bytes, section, entries.map((e) => (Object.hasOwn(renames, e.name) ? { ...e, name: renames[e.name] } : e)));
}

/** Drops every export whose name is not in `keep` (wasm-merge exports everything it merged). */
export function keepExports(bytes: Uint8Array, keep: string[]): Uint8Array {
  const section = sections(bytes).find((s) => s.id === SECTION.export);
  if (!section) return bytes;
  return rewriteExports(bytes, section, readExportEntries(bytes, section).filter((e) => keep.includes(e.name)));
}

/** Appends a custom section (information only: no host needs it to run the module). */
export function appendCustomSection(bytes: Uint8Array, name: string, data: Uint8Array): Uint8Array {
  const encodedName = encodeName(name);
  return concatBytes([bytes, Uint8Array.from([SECTION.custom, ...writeU32Leb(encodedName.length + data.length)]), encodedName, data]);
}

/** The payload of a custom section, if the module has one with that name. */
export function readCustomSection(bytes: Uint8Array, name: string): Uint8Array | undefined {
  const section = sections(bytes).find((s) => s.id === SECTION.custom && s.name === name);
  if (!section) return undefined;
  return bytes.subarray(readName(bytes, section.contentStart).next, section.end);
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
        throw new WasmFormatError(`unsupported opcode 0x${op.toString(16)} in a constant expression`);
    }
    op = r.byte();
  }
}

/** Reads the names of the libraries a dynamic library needs (the dylink.0 NEEDED subsection). */
export function dylinkNeeded(bytes: Uint8Array): string[] {
  const section = sections(bytes).find((s) => s.id === SECTION.custom && s.name === 'dylink.0');
  if (!section) return [];
  const r = new Reader(bytes, readName(bytes, section.contentStart).next, section.end);
  while (!r.done) {
    const type = r.byte();
    const size = r.u32();
    const next = r.at + size;
    if (type === 2 /* WASM_DYLINK_NEEDED */) return Array.from({ length: r.u32() }, () => r.name());
    r.at = next;
  }
  return [];
}
