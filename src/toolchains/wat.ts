/**
 * WAT modules of wfn's own (the Fastly adapter, the component bridge): string literals
 * (bytes written as the inside of one, and back), the small template language they share
 * (`{{NAME}}` placeholders, `@lit"..."` literals placed in the module's memory) and the
 * compiler (wabt). The adapters fill their templates with these; see adapters/fastly/adapter.wat.
 */

const encoder = new TextEncoder();

/** Bytes as the inside of a WAT string literal. */
export function watString(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) {
    out += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** The bytes a WAT string literal's inside stands for (the escapes adapter.wat uses). */
export function watBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '\\') {
      out.push(...encoder.encode(ch));
      continue;
    }
    const next = text[i + 1];
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, '"': 34, "'": 39, '\\': 92 };
    if (next in simple) {
      out.push(simple[next]);
      i++;
    } else if (/^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      throw new Error(`adapter.wat: unsupported string escape \\${next}`);
    }
  }
  return Uint8Array.from(out);
}

/** Replaces each {{NAME}} once (what a value brings in is not scanned again); LITS and LITS_BYTES are left for expandLiterals. */
export function fillPlaceholders(text: string, values: Record<string, string>, file: string): string {
  return text.replace(/\{\{([A-Z0-9_]+)\}\}/g, (whole, name: string) => {
    if (name === 'LITS' || name === 'LITS_BYTES') return whole;
    if (!(name in values)) throw new Error(`${file}: unknown placeholder ${whole}`);
    return values[name];
  });
}

/**
 * @lit"..." -> (i32.const OFFSET) (i32.const LENGTH) of the literal's place in the module's
 * memory (identical literals share it); @off"..." and @len"..." -> its offset or its length
 * alone. {{LITS}} becomes the literals' bytes and {{LITS_BYTES}} their length, for the data
 * segment the module copies to `base` at start.
 */
export function expandLiterals(text: string, base: number, room: number, file: string): string {
  const offsets = new Map<string, { offset: number; length: number }>();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const out = text.replace(/@(lit|off|len)"((?:[^"\\]|\\.)*)"/g, (_whole, form: string, inner: string) => {
    let place = offsets.get(inner);
    if (!place) {
      const bytes = watBytes(inner);
      place = { offset: base + size, length: bytes.length };
      offsets.set(inner, place);
      chunks.push(bytes);
      size += bytes.length;
    }
    if (form === 'off') return `(i32.const ${place.offset})`;
    if (form === 'len') return `(i32.const ${place.length})`;
    return `(i32.const ${place.offset}) (i32.const ${place.length})`;
  });
  if (size > room) throw new Error(`${file}: the literals take ${size} bytes, more than the ${room} reserved`);
  const lits = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    lits.set(chunk, at);
    at += chunk.length;
  }
  return out.replace('{{LITS}}', watString(lits)).replace('{{LITS_BYTES}}', String(size));
}

type Wabt = Awaited<ReturnType<typeof import('wabt')>>;
let wabtPromise: Promise<Wabt> | undefined;

async function loadWabt(): Promise<Wabt> {
  wabtPromise ??= import('wabt').then((m) => m.default());
  return wabtPromise;
}

/** Compiles WAT (with the multi-memory and bulk-memory features the adapters use). */
export async function compileWat(text: string, filename = 'adapter.wat'): Promise<Uint8Array> {
  const wabt = await loadWabt();
  // wabt 1.0.39 reads multi_memory, though its typings do not list it yet.
  const features = { multi_memory: true, bulk_memory: true } as Parameters<Wabt['parseWat']>[2];
  const parsed = wabt.parseWat(filename, text, features);
  try {
    // (wabt's validate() ignores the features given to parseWat; binaryen validates after merging)
    parsed.resolveNames();
    return parsed.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    parsed.destroy();
  }
}
