/**
 * WAT string literals: bytes written as the inside of one (printable ASCII kept, the rest
 * escaped), and back. The adapter's template (adapter-module.ts) and the outbound policy
 * (outbound-policy.ts) put data and text into adapter.wat with them.
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
