/**
 * The memory policy of the runtime, as rewrites of the module's bytes (on the binary codec,
 * wasm-binary.ts): the memory cap written into the module's limits, and the module's own
 * memory turned into an import so instances can get a recycled one. Platform-neutral.
 */
import { appendCustomSection, ByteWriter, concatBytes, definedMemories, encodeName, listSections, Reader, replaceSection, SECTION, WasmFormatError, writeMemoryLimits, writeU32Leb } from './wasm-binary.js';

export const WASM_PAGE = 65536;

/** The module's initial memory is already above the cap. */
export class MemoryCapError extends WasmFormatError {}

/**
 * Rewrites the module's memory limits so that `memory.grow` past `maxMiB` fails inside the
 * guest (returns -1), as any allocator expects; a memory bomb then ends as a trap, not as a
 * host that swaps. Throws when the module's initial memory is already above the cap.
 */
export function capMemory(bytes: Uint8Array, maxMiB: number): Uint8Array {
  const capPages = Math.max(1, Math.floor((maxMiB * 1024 * 1024) / WASM_PAGE));
  const section = listSections(bytes).find((s) => s.id === SECTION.memory);
  if (!section) return bytes;
  const memories = definedMemories(bytes);
  const payload: number[] = writeU32Leb(memories.length);
  for (const mem of memories) {
    if (mem.minPages > capPages) {
      throw new MemoryCapError(
        `the module's initial memory (${(mem.minPages * WASM_PAGE) / 1048576} MiB) is larger than the memory cap (${maxMiB} MiB)`,
      );
    }
    // Always with a maximum: the cap, or the module's own when it is lower.
    for (const byte of writeMemoryLimits({ ...mem, maxPages: Math.min(mem.maxPages ?? capPages, capPages) })) payload.push(byte);
  }
  return replaceSection(bytes, section, SECTION.memory, payload);
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
  const importSection = sections.find((s) => s.id === SECTION.import);
  // Pieces, never spread: the import section of a valid module can hold thousands of entries.
  const imports = new ByteWriter();
  let count = 0;
  if (importSection) {
    const r = new Reader(bytes, importSection.contentStart, importSection.end);
    count = r.u32();
    const entriesStart = r.at;
    // Refuse when the module already imports a memory (memory indices would shift).
    for (let i = 0; i < count; i++) {
      r.name();
      r.name();
      const kind = r.byte();
      if (kind === 0) r.u32();
      else if (kind === 1) {
        r.byte();
        const flags = r.byte();
        r.u32();
        if (flags & 1) r.u32();
      } else if (kind === 3) r.skip(2);
      else return undefined; // a memory (2), or a kind this rewrite does not know
    }
    imports.copy(bytes, entriesStart, importSection.end);
  }
  const { minPages, maxPages } = memories[0];
  imports.bytes(encodeName(POOLED_MEMORY.module));
  imports.bytes(encodeName(POOLED_MEMORY.name));
  imports.push(0x02, ...writeMemoryLimits({ minPages, maxPages, shared: false, memory64: false }));
  const importPayload = concatBytes([Uint8Array.from(writeU32Leb(count + 1)), imports.finish()]);

  // Chunks, not one array: modules are megabytes and spreading them would overflow the stack.
  const chunks: Uint8Array[] = [bytes.subarray(0, 8)];
  const emit = (id: number, payload: Uint8Array) => chunks.push(Uint8Array.from([id, ...writeU32Leb(payload.length)]), payload);
  let importWritten = false;
  for (const s of sections) {
    if (!importWritten && s.id !== SECTION.custom && s.id !== SECTION.type && s.id !== SECTION.import) {
      emit(SECTION.import, importPayload);
      importWritten = true;
    }
    if (s.id === SECTION.import) {
      emit(SECTION.import, importPayload);
      importWritten = true;
    } else if (s.id !== SECTION.memory) {
      chunks.push(bytes.subarray(s.start, s.end));
    }
  }
  if (!importWritten) emit(SECTION.import, importPayload);
  return { bytes: concatBytes(chunks), initialPages: minPages, maximumPages: maxPages };
}

/** Custom section of a module rewritten by `takeDataImage`: the memory's image after instantiation. */
export const IMAGE_SECTION = 'wfn.memory-image';

/**
 * Moves the active data segments of a module (whose memory is the `wfn.memory` import) into one
 * image, a custom section: `u32 offset` then the bytes from `offset` to the end of the last
 * segment. Each segment stays, empty, so segment indices hold. The host writes the image into
 * the memory it lends (one copy) instead of V8 replaying each segment at every instantiation:
 * Go's hello has ~29,000 segments. Undefined when a segment is not a constant offset into memory
 * 0 within the initial memory (instantiation would trap: left for V8 to report), or when the
 * module has no active segments.
 */
export function takeDataImage(bytes: Uint8Array, initialPages: number): Uint8Array | undefined {
  const section = listSections(bytes).find((s) => s.id === SECTION.data);
  if (!section) return undefined;
  const r = new Reader(bytes, section.contentStart, section.end);
  const count = r.u32();
  const segments: { offset: number; from: number; to: number }[] = [];
  const payload = new ByteWriter();
  payload.push(...writeU32Leb(count));
  let low = Infinity;
  let high = 0;
  for (let i = 0; i < count; i++) {
    const start = r.at;
    const flags = r.u32();
    if (flags === 1) {
      // Passive: kept as it is (memory.init copies it when the guest asks).
      const len = r.u32();
      r.skip(len);
      payload.copy(bytes, start, r.at);
      continue;
    }
    if (flags !== 0 && !(flags === 2 && r.u32() === 0)) return undefined;
    if (r.byte() !== 0x41) return undefined; // not i32.const
    const offset = Number(r.sleb());
    if (r.byte() !== 0x0b) return undefined;
    const len = r.u32();
    const from = r.at;
    r.skip(len);
    if (offset < 0 || offset + len > initialPages * WASM_PAGE) return undefined;
    segments.push({ offset, from, to: r.at });
    if (len > 0) {
      low = Math.min(low, offset);
      high = Math.max(high, offset + len);
    }
    payload.push(0x00, 0x41, 0x00, 0x0b, 0x00); // active, i32.const 0, no bytes
  }
  if (segments.length === 0) return undefined;
  if (high === 0) low = 0;
  const image = new Uint8Array(4 + high - low);
  new DataView(image.buffer).setUint32(0, low, true);
  // In order: a later segment overwrites an earlier one, as instantiation does.
  for (const s of segments) if (s.to > s.from) image.set(bytes.subarray(s.from, s.to), 4 + s.offset - low);
  const stripped = replaceSection(bytes, section, SECTION.data, payload.finish());
  return appendCustomSection(stripped, IMAGE_SECTION, image);
}
