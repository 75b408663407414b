/**
 * Blob and File, held in memory (a function's bodies are). wfn's own code: fetch-blob and
 * @web-std/blob keep parts lazily for files on disk and reach for Node's stream module;
 * the File API over one Uint8Array is ~150 lines. stream() needs the streams module.
 */
import { utf8Decode, utf8Encode } from './encoding.js';
import { hooks, leftOut } from './hooks.js';
import { defineGlobals } from './install.js';

type BlobPart = Blob | ArrayBuffer | ArrayBufferView | string;

interface BlobOptions {
  type?: string;
  endings?: 'transparent' | 'native';
}

/** A type that is not printable ASCII is dropped, as the File API says; the rest is lower-cased. */
function normalizeType(type: unknown): string {
  const t = type === undefined ? '' : String(type);
  return /^[\x20-\x7e]*$/.test(t) ? t.toLowerCase() : '';
}

function partBytes(part: unknown, endings: string): Uint8Array {
  if (part instanceof Blob) return Blob.contents(part);
  if (part instanceof ArrayBuffer) return new Uint8Array(part.slice(0));
  if (ArrayBuffer.isView(part)) return new Uint8Array(part.buffer.slice(part.byteOffset, part.byteOffset + part.byteLength));
  const text = String(part);
  return utf8Encode(endings === 'native' ? text.replace(/\r\n?/g, '\n') : text);
}

export class Blob {
  #bytes: Uint8Array;
  #type: string;

  constructor(parts: Iterable<BlobPart> = [], options: BlobOptions = {}) {
    if (parts === null || typeof parts !== 'object' || typeof (parts as Iterable<BlobPart>)[Symbol.iterator] !== 'function') {
      if (parts !== undefined) throw new TypeError('Blob: the parts must be a sequence (e.g. an array)');
    }
    options = options ?? {};
    const endings = options.endings ?? 'transparent';
    if (endings !== 'transparent' && endings !== 'native') throw new TypeError(`Blob: invalid endings "${endings}"`);
    const chunks = [...(parts ?? [])].map((p) => partBytes(p, endings));
    const total = chunks.reduce((n, c) => n + c.length, 0);
    this.#bytes = new Uint8Array(total);
    let at = 0;
    for (const c of chunks) {
      this.#bytes.set(c, at);
      at += c.length;
    }
    this.#type = normalizeType(options.type);
  }

  /** @internal The blob's bytes, shared (blobs are immutable). */
  static contents(blob: Blob): Uint8Array {
    return blob.#bytes;
  }

  /** @internal A blob over bytes the caller gives up. */
  static of(bytes: Uint8Array, type: string): Blob {
    const blob = new Blob();
    blob.#bytes = bytes;
    blob.#type = normalizeType(type);
    return blob;
  }

  get size(): number {
    return this.#bytes.length;
  }

  get type(): string {
    return this.#type;
  }

  slice(start?: number, end?: number, contentType?: string): Blob {
    const size = this.#bytes.length;
    const clamp = (n: number | undefined, fallback: number) => {
      if (n === undefined) return fallback;
      const i = Math.trunc(Number(n)) || 0;
      return i < 0 ? Math.max(size + i, 0) : Math.min(i, size);
    };
    const from = clamp(start, 0);
    const to = clamp(end, size);
    return Blob.of(this.#bytes.subarray(from, Math.max(from, to)), contentType === undefined ? '' : String(contentType));
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return this.#bytes.slice().buffer;
  }

  async bytes(): Promise<Uint8Array> {
    return this.#bytes.slice();
  }

  async text(): Promise<string> {
    return utf8Decode(this.#bytes);
  }

  stream(): unknown {
    if (!hooks.streams) throw leftOut('Blob.stream()', 'ReadableStream');
    let sent = false;
    const bytes = this.#bytes;
    return hooks.streams.fromReader(async () => {
      if (sent || bytes.length === 0) return null;
      sent = true;
      return bytes.slice();
    });
  }

  get [Symbol.toStringTag](): string {
    return 'Blob';
  }
}

export class File extends Blob {
  readonly #name: string;
  readonly #lastModified: number;

  constructor(bits: Iterable<BlobPart>, name: string, options: BlobOptions & { lastModified?: number } = {}) {
    if (arguments.length < 2) throw new TypeError('File: 2 arguments required (bits, name)');
    super(bits, options);
    this.#name = String(name);
    const last = options?.lastModified;
    this.#lastModified = last === undefined ? Date.now() : Math.trunc(Number(last)) || 0;
  }

  get name(): string {
    return this.#name;
  }

  get lastModified(): number {
    return this.#lastModified;
  }

  get webkitRelativePath(): string {
    return '';
  }

  get [Symbol.toStringTag](): string {
    return 'File';
  }
}

hooks.blob = {
  isBlob: (value) => value instanceof Blob,
  contents: (blob) => ({ bytes: Blob.contents(blob as Blob), type: (blob as Blob).type }),
  create: (bytes, type) => Blob.of(bytes, type),
};

defineGlobals({ Blob, File });
