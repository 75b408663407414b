/**
 * Small, platform-neutral reads and rewrites of the WebAssembly binary format: section
 * listing and the memory cap. (binaryen could do this, but it is 10+ MB and not
 * bundleable into the Worker/Lambda shims; these are ~100 lines.)
 */

export const WASM_PAGE = 65536;

export class WasmFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmFormatError';
  }
}

/** The module's initial memory is already above the cap. */
export class MemoryCapError extends WasmFormatError {}

export function readU32Leb(bytes: Uint8Array, offset: number): { value: number; next: number } {
  let result = 0;
  let shift = 0;
  let at = offset;
  for (;;) {
    if (at >= bytes.length) throw new WasmFormatError('truncated LEB128 number');
    const byte = bytes[at++];
    result += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) break;
    shift += 7;
    if (shift > 63) throw new WasmFormatError('LEB128 number too long');
  }
  return { value: result, next: at };
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

export interface Section {
  id: number;
  /** Offset of the section's payload (after id and size). */
  start: number;
  end: number;
  /** For custom sections (id 0): the name. */
  name?: string;
}

export function listSections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new WasmFormatError('not a WebAssembly binary (missing the \\0asm magic number)');
  }
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new WasmFormatError('not a WebAssembly core module (version is not 1; a component?)');
  }
  const sections: Section[] = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const size = readU32Leb(bytes, at + 1);
    const start = size.next;
    const end = start + size.value;
    if (end > bytes.length) throw new WasmFormatError(`section ${id} runs past the end of the file`);
    const section: Section = { id, start, end };
    if (id === 0) {
      const len = readU32Leb(bytes, start);
      section.name = new TextDecoder().decode(bytes.subarray(len.next, len.next + len.value));
    }
    sections.push(section);
    at = end;
  }
  return sections;
}

export interface MemoryLimits {
  minPages: number;
  maxPages?: number;
  shared: boolean;
  memory64: boolean;
}

/** The limits of the memories the module defines (not imported ones). */
export function definedMemories(bytes: Uint8Array): MemoryLimits[] {
  const section = listSections(bytes).find((s) => s.id === 5);
  if (!section) return [];
  const count = readU32Leb(bytes, section.start);
  let at = count.next;
  const out: MemoryLimits[] = [];
  for (let i = 0; i < count.value; i++) {
    const flags = bytes[at++];
    const min = readU32Leb(bytes, at);
    at = min.next;
    let maxPages: number | undefined;
    if (flags & 1) {
      const max = readU32Leb(bytes, at);
      maxPages = max.value;
      at = max.next;
    }
    out.push({ minPages: min.value, maxPages, shared: (flags & 2) !== 0, memory64: (flags & 4) !== 0 });
  }
  return out;
}

/**
 * Rewrites the module's memory limits so that `memory.grow` past `maxMiB` fails inside the
 * guest (returns -1), as any allocator expects; a memory bomb then ends as a trap, not as a
 * host that swaps. Throws when the module's initial memory is already above the cap.
 */
export function capMemory(bytes: Uint8Array, maxMiB: number): Uint8Array {
  const capPages = Math.max(1, Math.floor((maxMiB * 1024 * 1024) / WASM_PAGE));
  const section = listSections(bytes).find((s) => s.id === 5);
  if (!section) return bytes;
  const memories = definedMemories(bytes);
  const payload: number[] = [...writeU32Leb(memories.length)];
  for (const mem of memories) {
    if (mem.minPages > capPages) {
      throw new MemoryCapError(
        `the module's initial memory (${(mem.minPages * WASM_PAGE) / 1048576} MiB) is larger than the memory cap (${maxMiB} MiB)`,
      );
    }
    const max = Math.min(mem.maxPages ?? capPages, capPages);
    const flags = 1 | (mem.shared ? 2 : 0) | (mem.memory64 ? 4 : 0);
    payload.push(flags, ...writeU32Leb(mem.minPages), ...writeU32Leb(max));
  }
  return replaceSection(bytes, section, 5, payload);
}

function findSectionIdOffset(bytes: Uint8Array, section: Section): number {
  // Walk from the start again: the id offset is the one whose size LEB ends at section.start.
  let at = 8;
  while (at < bytes.length) {
    const size = readU32Leb(bytes, at + 1);
    if (size.next === section.start) return at;
    at = size.next + size.value;
  }
  throw new WasmFormatError('memory section not found');
}

const utf8 = new TextEncoder();

/** A name (u32 length + UTF-8) at `at`. */
export function readName(bytes: Uint8Array, at: number): { value: string; next: number } {
  const len = readU32Leb(bytes, at);
  return { value: new TextDecoder().decode(bytes.subarray(len.next, len.next + len.value)), next: len.next + len.value };
}

/**
 * Appends every item of `items` to `target`. Not `target.push(...items)`: a spread puts each
 * element on the stack, and a data-sized array (a long name, a big section) overflows it.
 */
export function appendAll<T>(target: T[], items: ArrayLike<T>): void {
  for (let i = 0; i < items.length; i++) target.push(items[i]);
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

export function encodeName(name: string): number[] {
  const bytes = utf8.encode(name);
  return [...writeU32Leb(bytes.length), ...bytes];
}

/** The module with one section's payload replaced; every other byte kept. */
export function replaceSection(bytes: Uint8Array, section: Section, id: number, payload: number[] | Uint8Array): Uint8Array {
  const idAt = findSectionIdOffset(bytes, section);
  const header = [id, ...writeU32Leb(payload.length)];
  const out = new Uint8Array(idAt + header.length + payload.length + (bytes.length - section.end));
  out.set(bytes.subarray(0, idAt), 0);
  out.set(header, idAt);
  out.set(payload, idAt + header.length);
  out.set(bytes.subarray(section.end), idAt + header.length + payload.length);
  return out;
}

/** Renames exports (e.g. AssemblyScript's `wizer_initialize` to `wizer.initialize`), keeping every other byte. */
export function renameExports(bytes: Uint8Array, renames: Record<string, string>): Uint8Array {
  const section = listSections(bytes).find((s) => s.id === 7);
  if (!section) return bytes;
  const count = readU32Leb(bytes, section.start);
  let at = count.next;
  const payload: number[] = [...writeU32Leb(count.value)];
  let changed = false;
  for (let i = 0; i < count.value; i++) {
    const len = readU32Leb(bytes, at);
    const name = new TextDecoder().decode(bytes.subarray(len.next, len.next + len.value));
    at = len.next + len.value;
    const kind = bytes[at++];
    const index = readU32Leb(bytes, at);
    at = index.next;
    const renamed = renames[name] ?? name;
    changed ||= renamed !== name;
    appendAll(payload, encodeName(renamed));
    payload.push(kind, ...writeU32Leb(index.value));
  }
  return changed ? replaceSection(bytes, section, 7, payload) : bytes;
}

/** Appends a custom section (information only: no host needs it to run the module). */
export function appendCustomSection(bytes: Uint8Array, name: string, data: Uint8Array): Uint8Array {
  const payload = [...encodeName(name), ...data];
  const header = [0, ...writeU32Leb(payload.length)];
  const out = new Uint8Array(bytes.length + header.length + payload.length);
  out.set(bytes, 0);
  out.set(header, bytes.length);
  out.set(payload, bytes.length + header.length);
  return out;
}

/** The payload of a custom section, if the module has one with that name. */
export function readCustomSection(bytes: Uint8Array, name: string): Uint8Array | undefined {
  const section = listSections(bytes).find((s) => s.id === 0 && s.name === name);
  if (!section) return undefined;
  const len = readU32Leb(bytes, section.start);
  return bytes.subarray(len.next + len.value, section.end);
}

/** Module and field name of the memory import that `importMemory` creates. */
export const POOLED_MEMORY = { module: 'wfn', name: 'memory' } as const;

export interface ImportedMemory {
  bytes: Uint8Array;
  initialPages: number;
  maximumPages: number;
}

/**
 * Turns the module's own memory into an import (`wfn.memory`, same limits), so the host can
 * hand each fresh instance a recycled, zeroed memory instead of a new one: a new
 * WebAssembly.Memory costs ~100 µs (address-space reservation, and GC pressure under load),
 * a recycled one ~2 µs (measured with a one-page module on Node 20). Returns undefined for
 * modules it does not apply to (no memory, several, imported, shared or 64-bit).
 */
export function importMemory(bytes: Uint8Array): ImportedMemory | undefined {
  const sections = listSections(bytes);
  const memories = definedMemories(bytes);
  if (memories.length !== 1 || memories[0].shared || memories[0].memory64 || memories[0].maxPages === undefined) return undefined;
  const importSection = sections.find((s) => s.id === 2);
  // Pieces, never spread: the import section of a valid module can hold thousands of entries.
  const entries: Uint8Array[] = [];
  let count = 0;
  if (importSection) {
    const c = readU32Leb(bytes, importSection.start);
    count = c.value;
    // Refuse when the module already imports a memory (memory indices would shift).
    let at = c.next;
    for (let i = 0; i < count; i++) {
      const m = readU32Leb(bytes, at);
      at = m.next + m.value;
      const n = readU32Leb(bytes, at);
      at = n.next + n.value;
      const kind = bytes[at++];
      if (kind === 0) at = readU32Leb(bytes, at).next;
      else if (kind === 1) {
        at++;
        const flags = bytes[at++];
        at = readU32Leb(bytes, at).next;
        if (flags & 1) at = readU32Leb(bytes, at).next;
      } else if (kind === 2) return undefined;
      else if (kind === 3) at += 2;
      else return undefined;
    }
    entries.push(bytes.subarray(c.next, importSection.end));
  }
  const { minPages, maxPages } = memories[0];
  const memoryImport = [...encodeName(POOLED_MEMORY.module), ...encodeName(POOLED_MEMORY.name), 0x02, 0x01, ...writeU32Leb(minPages), ...writeU32Leb(maxPages)];
  const importPayload = concatBytes([Uint8Array.from(writeU32Leb(count + 1)), ...entries, Uint8Array.from(memoryImport)]);

  // Chunks, not one array: modules are megabytes and spreading them would overflow the stack.
  const chunks: Uint8Array[] = [bytes.subarray(0, 8)];
  const emit = (id: number, payload: Uint8Array) => chunks.push(Uint8Array.from([id, ...writeU32Leb(payload.length)]), payload);
  let importWritten = false;
  for (const s of sections) {
    if (!importWritten && s.id !== 0 && s.id !== 1 && s.id !== 2) {
      emit(2, importPayload);
      importWritten = true;
    }
    if (s.id === 2) {
      emit(2, importPayload);
      importWritten = true;
    } else if (s.id !== 5) {
      chunks.push(bytes.subarray(findSectionIdOffset(bytes, s), s.end));
    }
  }
  if (!importWritten) emit(2, importPayload);
  return { bytes: concatBytes(chunks), initialPages: minPages, maximumPages: maxPages };
}
