/**
 * Headers, Request and Response after the Fetch Standard, for a handler that receives one
 * request and returns one response. Bodies are byte buffers (no streams): text(), json(),
 * arrayBuffer(), bytes(), formData() for urlencoded bodies.
 */
import { toBytes, utf8Decode, utf8Encode } from './encoding.js';
import { parseForm, URL, URLSearchParams } from './url.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function headerName(name: unknown): string {
  const n = String(name);
  if (!TOKEN.test(n)) throw new TypeError(`Headers: invalid header name "${n}"`);
  return n.toLowerCase();
}

/** Values are trimmed of HTTP whitespace and may not contain CR, LF or NUL. */
function headerValue(value: unknown): string {
  const v = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
  if (/[\r\n\0]/.test(v)) throw new TypeError(`Headers: invalid header value ${JSON.stringify(v)}`);
  return v;
}

type HeadersInit = Headers | Iterable<readonly [string, string]> | Record<string, string> | [string, string][];

export class Headers {
  /** Lower-case name/value pairs in insertion order; repeated names kept (Set-Cookie). */
  #list: [string, string][] = [];
  #guard: 'none' | 'immutable' = 'none';

  constructor(init?: HeadersInit) {
    if (init === undefined || init === null) return;
    if (init instanceof Headers) {
      this.#list = init.#list.map(([k, v]) => [k, v]);
    } else if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const pair of init as Iterable<readonly [string, string]>) {
        const items = [...(pair as Iterable<string>)];
        if (items.length !== 2) throw new TypeError('Headers: each header must be a [name, value] pair');
        this.append(items[0], items[1]);
      }
    } else if (typeof init === 'object') {
      for (const key of Object.keys(init)) this.append(key, (init as Record<string, string>)[key]);
    } else {
      throw new TypeError('Headers: expected an object, an array of pairs or Headers');
    }
  }

  /** @internal Makes the headers of a received request read-only, as fetch does. */
  static freeze(headers: Headers): Headers {
    headers.#guard = 'immutable';
    return headers;
  }

  /** @internal Every pair, repeated names kept, in insertion order. */
  static raw(headers: Headers): [string, string][] {
    return headers.#list;
  }

  #check(): void {
    if (this.#guard === 'immutable') throw new TypeError('Headers: these headers are immutable');
  }

  append(name: string, value: string): void {
    this.#check();
    this.#list.push([headerName(name), headerValue(value)]);
  }

  delete(name: string): void {
    this.#check();
    const n = headerName(name);
    this.#list = this.#list.filter(([k]) => k !== n);
  }

  get(name: string): string | null {
    const n = headerName(name);
    const values = this.#list.filter(([k]) => k === n).map(([, v]) => v);
    return values.length ? values.join(', ') : null;
  }

  getSetCookie(): string[] {
    return this.#list.filter(([k]) => k === 'set-cookie').map(([, v]) => v);
  }

  has(name: string): boolean {
    const n = headerName(name);
    return this.#list.some(([k]) => k === n);
  }

  set(name: string, value: string): void {
    this.#check();
    const n = headerName(name);
    const v = headerValue(value);
    const index = this.#list.findIndex(([k]) => k === n);
    if (index < 0) this.#list.push([n, v]);
    else {
      this.#list[index] = [n, v];
      this.#list = this.#list.filter(([k], i) => k !== n || i === index);
    }
  }

  /** The standard's "sort and combine": sorted names, values joined, Set-Cookie kept apart. */
  #sorted(): [string, string][] {
    const names = [...new Set(this.#list.map(([k]) => k))].sort();
    const out: [string, string][] = [];
    for (const name of names) {
      if (name === 'set-cookie') for (const v of this.getSetCookie()) out.push([name, v]);
      else out.push([name, this.get(name)!]);
    }
    return out;
  }

  forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    for (const [k, v] of this.#sorted()) callback.call(thisArg, v, k, this);
  }

  *entries(): IterableIterator<[string, string]> {
    yield* this.#sorted();
  }

  *keys(): IterableIterator<string> {
    for (const [k] of this.#sorted()) yield k;
  }

  *values(): IterableIterator<string> {
    for (const [, v] of this.#sorted()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return 'Headers';
  }
}

export type BodyInit = string | ArrayBuffer | ArrayBufferView | URLSearchParams | null | undefined;

/** Body bytes plus the Content-Type the body implies (string -> text/plain, params -> urlencoded). */
function extractBody(body: BodyInit): { bytes: Uint8Array | null; type: string | null } {
  if (body === null || body === undefined) return { bytes: null, type: null };
  if (typeof body === 'string') return { bytes: utf8Encode(body), type: 'text/plain;charset=UTF-8' };
  if (body instanceof URLSearchParams) {
    return { bytes: utf8Encode(body.toString()), type: 'application/x-www-form-urlencoded;charset=UTF-8' };
  }
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return { bytes: toBytes(body, 'body').slice(), type: null };
  if (typeof (body as { getReader?: unknown }).getReader === 'function') {
    throw new TypeError('ReadableStream bodies are not supported by wfn yet: pass a string, ArrayBuffer or Uint8Array');
  }
  return { bytes: utf8Encode(String(body)), type: 'text/plain;charset=UTF-8' };
}

/** The body methods Request and Response share. */
abstract class Body {
  #bytes: Uint8Array | null;
  #used = false;

  constructor(bytes: Uint8Array | null) {
    this.#bytes = bytes;
  }

  abstract get headers(): Headers;

  /** The body is not streamed: `body` is null or the whole body as one Uint8Array. */
  get body(): Uint8Array | null {
    return this.#bytes;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  #consume(): Uint8Array {
    if (this.#used) throw new TypeError('Body has already been used');
    this.#used = true;
    return this.#bytes ?? new Uint8Array(0);
  }

  /** @internal The bytes without consuming (for clone() and for writing the response). */
  static peek(body: Body): Uint8Array | null {
    return body.#bytes;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.#consume();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return this.#consume().slice();
  }

  async text(): Promise<string> {
    return utf8Decode(this.#consume());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async formData(): Promise<URLSearchParams> {
    const type = this.headers.get('content-type') ?? '';
    if (!/^application\/x-www-form-urlencoded/i.test(type)) {
      throw new TypeError('formData(): only application/x-www-form-urlencoded bodies are supported (the result is a URLSearchParams)');
    }
    return new URLSearchParams(parseForm(utf8Decode(this.#consume())));
  }
}

export interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  body?: BodyInit;
  redirect?: string;
  signal?: unknown;
}

/**
 * @internal Lets the CGI bridge give a GET/HEAD request the body it really arrived with
 * (stdin), which the Request constructor refuses for user code.
 */
export const ANY_METHOD_BODY = Symbol('wfn.anyMethodBody');

const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);

export class Request extends Body {
  readonly #method: string;
  readonly #url: string;
  readonly #headers: Headers;
  readonly #redirect: string;

  constructor(input: string | URL | Request, init: RequestInit = {}) {
    const from = input instanceof Request ? input : null;
    let method = init.method ?? from?.method ?? 'GET';
    if (!TOKEN.test(method)) throw new TypeError(`Request: invalid method "${method}"`);
    if (NORMALIZED_METHODS.has(method.toUpperCase())) method = method.toUpperCase();
    if (FORBIDDEN_METHODS.has(method.toUpperCase())) throw new TypeError(`Request: method ${method} is forbidden`);
    const headers = new Headers(init.headers ?? from?.headers);
    let bytes: Uint8Array | null = null;
    if (init.body !== undefined && init.body !== null) {
      if ((method === 'GET' || method === 'HEAD') && !(init as { [ANY_METHOD_BODY]?: boolean })[ANY_METHOD_BODY]) {
        throw new TypeError('Request with GET/HEAD method cannot have body');
      }
      const extracted = extractBody(init.body);
      bytes = extracted.bytes;
      if (extracted.type && !headers.has('content-type')) headers.set('content-type', extracted.type);
    } else if (from) {
      bytes = Body.peek(from);
    }
    super(bytes);
    this.#method = method;
    this.#url = from ? from.url : new URL(String(input)).href;
    this.#headers = headers;
    this.#redirect = init.redirect ?? from?.redirect ?? 'follow';
  }

  get method(): string {
    return this.#method;
  }

  get url(): string {
    return this.#url;
  }

  get headers(): Headers {
    return this.#headers;
  }

  get redirect(): string {
    return this.#redirect;
  }

  clone(): Request {
    if (this.bodyUsed) throw new TypeError('Request.clone: body has already been used');
    return new Request(this);
  }

  get [Symbol.toStringTag](): string {
    return 'Request';
  }
}

export interface ResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export class Response extends Body {
  readonly #status: number;
  readonly #statusText: string;
  readonly #headers: Headers;
  readonly #type: string;

  constructor(body: BodyInit = null, init: ResponseInit = {}) {
    const status = init.status ?? 200;
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`Response: status ${status} is outside 200-599`);
    }
    const statusText = init.statusText ?? '';
    if (/[\r\n]/.test(statusText)) throw new TypeError('Response: invalid statusText');
    const headers = new Headers(init.headers);
    const extracted = extractBody(body);
    if (extracted.bytes !== null && NULL_BODY_STATUSES.has(status)) {
      throw new TypeError(`Response with status ${status} cannot have a body`);
    }
    if (extracted.type && !headers.has('content-type')) headers.set('content-type', extracted.type);
    super(extracted.bytes);
    this.#status = status;
    this.#statusText = statusText;
    this.#headers = headers;
    this.#type = 'default';
  }

  static json(data: unknown, init: ResponseInit = {}): Response {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError('Response.json: the value cannot be serialized as JSON');
    const headers = new Headers(init.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return new Response(text, { ...init, headers });
  }

  static redirect(url: string | URL, status = 302): Response {
    if (!REDIRECT_STATUSES.has(status)) throw new RangeError(`Response.redirect: ${status} is not a redirect status`);
    return new Response(null, { status, headers: { location: new URL(String(url)).href } });
  }

  static error(): Response {
    // A network error has no HTTP meaning for a CGI response; it is answered as a 502.
    return new Response(null, { status: 502, statusText: 'Bad Gateway' });
  }

  get status(): number {
    return this.#status;
  }

  get statusText(): string {
    return this.#statusText;
  }

  get ok(): boolean {
    return this.#status >= 200 && this.#status <= 299;
  }

  get headers(): Headers {
    return this.#headers;
  }

  get type(): string {
    return this.#type;
  }

  get url(): string {
    return '';
  }

  get redirected(): boolean {
    return false;
  }

  clone(): Response {
    if (this.bodyUsed) throw new TypeError('Response.clone: body has already been used');
    const bytes = Body.peek(this);
    return new Response(bytes ? bytes.slice() : null, { status: this.#status, statusText: this.#statusText, headers: this.#headers });
  }

  get [Symbol.toStringTag](): string {
    return 'Response';
  }
}

/** @internal For serve.ts: a response's bytes without consuming its body. */
export function bodyBytes(body: Request | Response): Uint8Array | null {
  return Body.peek(body);
}
