/**
 * TextEncoder and TextDecoder (UTF-8, as the Encoding Standard defines them): QuickJS has
 * neither. Also the UTF-8 helpers the rest of the runtime uses. Large inputs go through the
 * host (the canonical ABI converts strings natively); small ones and invalid UTF-8 are done
 * here in JavaScript, as is everything while the script initializes (no host at build time).
 */
import { utf8Decode as hostDecode, utf8Encode as hostEncode } from 'wfn:fn/host';
import { isInitializing } from './phase.js';

/** Below this many code units/bytes a JavaScript loop beats a host call. */
const HOST_THRESHOLD = 256;

/** Lone surrogates replaced by U+FFFD (String.prototype.toWellFormed, ES2024: QuickJS-ng has it). */
function wellFormed(s: string): string {
  return (s as string & { toWellFormed(): string }).toWellFormed();
}

/** Encodes a JavaScript string as UTF-8; lone surrogates become U+FFFD. */
export function utf8Encode(input: string): Uint8Array {
  const len = input.length;
  if (len >= HOST_THRESHOLD && !isInitializing()) return hostEncode(wellFormed(input));
  // ASCII fast path: one byte per code unit.
  let ascii = true;
  for (let i = 0; i < len; i++) {
    if (input.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = input.charCodeAt(i);
    return out;
  }
  const out = new Uint8Array(len * 3);
  let at = 0;
  for (let i = 0; i < len; i++) {
    let c = input.charCodeAt(i);
    if (c < 0x80) {
      out[at++] = c;
      continue;
    }
    if (c < 0x800) {
      out[at++] = 0xc0 | (c >> 6);
      out[at++] = 0x80 | (c & 0x3f);
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < len ? input.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        out[at++] = 0xf0 | (c >> 18);
        out[at++] = 0x80 | ((c >> 12) & 0x3f);
        out[at++] = 0x80 | ((c >> 6) & 0x3f);
        out[at++] = 0x80 | (c & 0x3f);
        continue;
      }
      c = 0xfffd;
    }
    out[at++] = 0xe0 | (c >> 12);
    out[at++] = 0x80 | ((c >> 6) & 0x3f);
    out[at++] = 0x80 | (c & 0x3f);
  }
  return out.slice(0, at);
}

const CHUNK = 8192;

function codeUnitsToString(units: ArrayLike<number>, length: number): string {
  let s = '';
  for (let i = 0; i < length; i += CHUNK) {
    s += String.fromCharCode.apply(null, Array.prototype.slice.call(units, i, Math.min(i + CHUNK, length)) as number[]);
  }
  return s;
}

interface DecodeResult {
  text: string;
  /** Bytes of an incomplete sequence at the end (kept for the next chunk when streaming). */
  pending: number;
}

/**
 * Decodes UTF-8 with the Encoding Standard's error handling: each maximal invalid
 * subsequence becomes one U+FFFD (or a TypeError when `fatal`).
 */
function decode(bytes: Uint8Array, fatal: boolean, stream: boolean): DecodeResult {
  const len = bytes.length;
  if (len >= HOST_THRESHOLD && !isInitializing()) {
    // Valid UTF-8 (the common case) is converted by the host; a truncated tail when streaming
    // or any invalid byte takes the exact JavaScript path below.
    const text = hostDecode(bytes);
    if (text !== null) return { text, pending: 0 };
  }
  let ascii = true;
  for (let i = 0; i < len; i++) {
    if (bytes[i] > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return { text: codeUnitsToString(bytes, len), pending: 0 };

  const units = new Uint16Array(len);
  let n = 0;
  let i = 0;
  const bad = () => {
    if (fatal) throw new TypeError('The encoded data was not valid UTF-8');
    units[n++] = 0xfffd;
  };
  while (i < len) {
    const b = bytes[i];
    if (b < 0x80) {
      units[n++] = b;
      i++;
      continue;
    }
    let need = 0;
    let cp = 0;
    let lower = 0x80;
    let upper = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      cp = b & 0x0f;
      if (b === 0xe0) lower = 0xa0;
      if (b === 0xed) upper = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      cp = b & 0x07;
      if (b === 0xf0) lower = 0x90;
      if (b === 0xf4) upper = 0x8f;
    } else {
      bad();
      i++;
      continue;
    }
    let j = 1;
    for (; j <= need; j++) {
      if (i + j >= len) {
        // Truncated sequence at the end: keep it for the next chunk when streaming.
        if (stream) return { text: codeUnitsToString(units, n), pending: len - i };
        break;
      }
      const c = bytes[i + j];
      if (c < lower || c > upper) break;
      lower = 0x80;
      upper = 0xbf;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (j <= need) {
      bad();
      i += j;
      continue;
    }
    i += need + 1;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      units[n++] = 0xd800 + (cp >> 10);
      units[n++] = 0xdc00 + (cp & 0x3ff);
    } else {
      units[n++] = cp;
    }
  }
  return { text: codeUnitsToString(units, n), pending: 0 };
}

/** UTF-8 bytes -> string, invalid sequences replaced, a leading BOM removed (as fetch's text() does). */
export function utf8Decode(bytes: Uint8Array): string {
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return decode(start ? bytes.subarray(start) : bytes, false, false).text;
}

export function toBytes(input: unknown, what: string): Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new TypeError(`${what}: expected an ArrayBuffer or ArrayBufferView`);
}

const UTF8_LABELS = new Set(['utf-8', 'utf8', 'unicode-1-1-utf-8', 'unicode11utf8', 'unicode20utf8', 'x-unicode20utf8']);

export class TextEncoder {
  get encoding(): string {
    return 'utf-8';
  }

  encode(input: string = ''): Uint8Array {
    return utf8Encode(String(input));
  }

  encodeInto(source: string, destination: Uint8Array): { read: number; written: number } {
    let read = 0;
    let written = 0;
    const s = String(source);
    for (let i = 0; i < s.length; i++) {
      const code = s.codePointAt(i)!;
      const units = code > 0xffff ? 2 : 1;
      const bytes = utf8Encode(s.slice(i, i + units));
      if (written + bytes.length > destination.length) break;
      destination.set(bytes, written);
      written += bytes.length;
      read += units;
      i += units - 1;
    }
    return { read, written };
  }

  get [Symbol.toStringTag](): string {
    return 'TextEncoder';
  }
}

export class TextDecoder {
  readonly #fatal: boolean;
  readonly #ignoreBOM: boolean;
  #pending: Uint8Array = new Uint8Array(0);
  #bomSeen = false;

  constructor(label: string = 'utf-8', options: { fatal?: boolean; ignoreBOM?: boolean } = {}) {
    if (!UTF8_LABELS.has(String(label).trim().toLowerCase())) {
      throw new RangeError(`TextDecoder: the encoding "${label}" is not supported (only utf-8)`);
    }
    this.#fatal = Boolean(options.fatal);
    this.#ignoreBOM = Boolean(options.ignoreBOM);
  }

  get encoding(): string {
    return 'utf-8';
  }

  get fatal(): boolean {
    return this.#fatal;
  }

  get ignoreBOM(): boolean {
    return this.#ignoreBOM;
  }

  decode(input?: ArrayBuffer | ArrayBufferView, options: { stream?: boolean } = {}): string {
    let bytes = input === undefined ? new Uint8Array(0) : toBytes(input, 'TextDecoder.decode');
    if (this.#pending.length) {
      const joined = new Uint8Array(this.#pending.length + bytes.length);
      joined.set(this.#pending);
      joined.set(bytes, this.#pending.length);
      bytes = joined;
    }
    const stream = Boolean(options.stream);
    if (!this.#bomSeen && !this.#ignoreBOM) {
      if (bytes.length < 3 && stream && [0xef, 0xbb, 0xbf].slice(0, bytes.length).every((b, i) => bytes[i] === b)) {
        this.#pending = bytes.slice();
        return '';
      }
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
    }
    if (bytes.length) this.#bomSeen = true;
    const { text, pending } = decode(bytes, this.#fatal, stream);
    this.#pending = pending ? bytes.slice(bytes.length - pending) : new Uint8Array(0);
    if (!stream) this.#bomSeen = false;
    return text;
  }

  get [Symbol.toStringTag](): string {
    return 'TextDecoder';
  }
}
