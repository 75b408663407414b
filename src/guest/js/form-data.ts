/**
 * FormData, and the bodies it reads and writes: multipart/form-data (parsed by
 * @remix-run/multipart-parser, with limits; written here) and
 * application/x-www-form-urlencoded (URLSearchParams).
 */
import { MultipartParseError, parseMultipart } from '@remix-run/multipart-parser';
import { Blob, File } from './blob.js';
import { utf8Decode, utf8Encode } from './encoding.js';
import { hooks } from './hooks.js';
import { defineGlobals } from './install.js';
import { URLSearchParams } from './url.js';

type Entry = [string, string | File];

/** A part header's name or filename, escaped as the HTML Standard's multipart encoding does. */
function escapeName(name: string): string {
  return name.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22');
}

function entryValue(value: unknown, filename?: string): string | File {
  if (value instanceof Blob) {
    if (value instanceof File && filename === undefined) return value;
    const name = filename !== undefined ? String(filename) : value instanceof File ? value.name : 'blob';
    return new File([value], name, { type: value.type, lastModified: value instanceof File ? value.lastModified : undefined });
  }
  return String(value);
}

export class FormData {
  #entries: Entry[] = [];

  constructor(form?: unknown) {
    if (form !== undefined) throw new TypeError('FormData: there are no <form> elements in a function');
  }

  append(name: string, value: string | Blob, filename?: string): void {
    this.#entries.push([String(name), entryValue(value, filename)]);
  }

  delete(name: string): void {
    const n = String(name);
    this.#entries = this.#entries.filter(([k]) => k !== n);
  }

  get(name: string): string | File | null {
    const n = String(name);
    return this.#entries.find(([k]) => k === n)?.[1] ?? null;
  }

  getAll(name: string): (string | File)[] {
    const n = String(name);
    return this.#entries.filter(([k]) => k === n).map(([, v]) => v);
  }

  has(name: string): boolean {
    const n = String(name);
    return this.#entries.some(([k]) => k === n);
  }

  set(name: string, value: string | Blob, filename?: string): void {
    const entry: Entry = [String(name), entryValue(value, filename)];
    const index = this.#entries.findIndex(([k]) => k === entry[0]);
    if (index < 0) this.#entries.push(entry);
    else this.#entries = this.#entries.filter(([k], i) => k !== entry[0] || i === index).map((e) => (e[0] === entry[0] ? entry : e));
  }

  forEach(callback: (value: string | File, key: string, parent: FormData) => void, thisArg?: unknown): void {
    for (const [k, v] of [...this.#entries]) callback.call(thisArg, v, k, this);
  }

  *entries(): IterableIterator<Entry> {
    for (const [k, v] of this.#entries) yield [k, v];
  }

  *keys(): IterableIterator<string> {
    for (const [k] of this.#entries) yield k;
  }

  *values(): IterableIterator<string | File> {
    for (const [, v] of this.#entries) yield v;
  }

  [Symbol.iterator](): IterableIterator<Entry> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'FormData';
  }
}

function boundary(): string {
  let hex = '';
  for (let i = 0; i < 24; i++) hex += Math.floor(Math.random() * 16).toString(16);
  return `----wfnFormBoundary${hex}`;
}

/** multipart/form-data, as a browser sends a form: CRLF line ends in text values, names escaped. */
function serialize(form: FormData): { bytes: Uint8Array; type: string } {
  const b = boundary();
  const chunks: Uint8Array[] = [];
  for (const [name, value] of form) {
    let head = `--${b}\r\nContent-Disposition: form-data; name="${escapeName(name)}"`;
    if (typeof value === 'string') {
      chunks.push(utf8Encode(`${head}\r\n\r\n${value.replace(/\r(?!\n)|(?<!\r)\n/g, '\r\n')}\r\n`));
    } else {
      head += `; filename="${escapeName(value.name)}"\r\nContent-Type: ${value.type || 'application/octet-stream'}\r\n\r\n`;
      chunks.push(utf8Encode(head), Blob.contents(value), utf8Encode('\r\n'));
    }
  }
  chunks.push(utf8Encode(`--${b}--\r\n`));
  const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return { bytes, type: `multipart/form-data; boundary=${b}` };
}

/** Limits that keep a hostile body from costing more than its own size. */
const MAX_PARTS = 1000;
const MAX_HEADER_BYTES = 8 * 1024;

function parse(bytes: Uint8Array, contentType: string): FormData {
  const form = new FormData();
  const essence = contentType.split(';')[0].trim().toLowerCase();
  if (essence === 'multipart/form-data') {
    const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
    if (!match) throw new TypeError('formData(): the multipart/form-data Content-Type has no boundary');
    try {
      for (const part of parseMultipart(bytes, { boundary: match[1] ?? match[2], maxParts: MAX_PARTS, maxHeaderSize: MAX_HEADER_BYTES })) {
        const name = part.name;
        if (name === undefined) continue;
        if (part.filename !== undefined) form.append(name, new File([part.bytes], part.filename, { type: part.headers['content-type'] ?? '' }));
        else form.append(name, utf8Decode(part.bytes));
      }
    } catch (error) {
      if (error instanceof MultipartParseError) throw new TypeError(`formData(): invalid multipart body (${error.message})`);
      throw error;
    }
    return form;
  }
  if (essence === 'application/x-www-form-urlencoded') {
    for (const [k, v] of new URLSearchParams(utf8Decode(bytes))) form.append(k, v);
    return form;
  }
  throw new TypeError(`formData(): the body is ${essence || 'of no type'}, not multipart/form-data or application/x-www-form-urlencoded`);
}

hooks.formData = {
  isFormData: (value) => value instanceof FormData,
  serialize: (form) => serialize(form as FormData),
  parse,
};

defineGlobals({ FormData });
