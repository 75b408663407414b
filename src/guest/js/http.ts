/**
 * Headers, Request and Response after the Fetch Standard. A body is held as bytes (what a
 * string, buffer, Blob, FormData or URLSearchParams becomes), as a ReadableStream, or as a
 * chunk reader (a body that arrives piece by piece, e.g. from fetch()) that becomes a
 * ReadableStream the moment `.body` is read. Streams, Blob, FormData and AbortSignal are
 * optional modules (hooks.ts): the core works without them and uses them when present.
 */
import { plainlyCanonical } from './canonical-url.js';
import { hooks, leftOut, type ChunkReader } from './hooks.js';
import { toBytes, utf8Decode, utf8Encode } from './encoding.js';
import { URL, URLSearchParams } from './url.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function headerName(name: unknown): string {
  const n = String(name);
  if (!TOKEN.test(n)) throw new TypeError(`Headers: invalid header name "${n}"`);
  return n.toLowerCase();
}

/** Values are ByteStrings trimmed of HTTP whitespace, without CR, LF or NUL. */
function headerValue(value: unknown): string {
  const v = String(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
  if (/[\r\n\0]/.test(v)) throw new TypeError(`Headers: invalid header value ${JSON.stringify(v)}`);
  if (/[^\x00-\xff]/.test(v)) throw new TypeError(`Headers: ${JSON.stringify(v)} is not a ByteString (it has characters above U+00FF)`);
  return v;
}

export type HeadersInit = Headers | Iterable<readonly [string, string]> | Record<string, string> | [string, string][];

export class Headers {
  /** Lower-case name/value pairs in insertion order; repeated names kept (Set-Cookie). */
  #list: [string, string][] = [];
  #guard: 'none' | 'immutable' = 'none';

  constructor(init?: HeadersInit) {
    if (init === undefined || init === null) return;
    if (init instanceof Headers) {
      this.#list = init.#list.map(([k, v]) => [k, v]);
    } else if (typeof init !== 'object' && typeof init !== 'function') {
      throw new TypeError('Headers: expected an object, an array of pairs or Headers');
    } else if (typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const pair of init as Iterable<readonly [string, string]>) {
        if (pair === null || typeof pair !== 'object' || typeof (pair as Iterable<string>)[Symbol.iterator] !== 'function') {
          throw new TypeError('Headers: each header must be a [name, value] pair');
        }
        const items = [...(pair as Iterable<string>)];
        if (items.length !== 2) throw new TypeError('Headers: each header must be a [name, value] pair');
        this.append(items[0], items[1]);
      }
    } else {
      for (const key of Object.keys(init)) this.append(key, (init as Record<string, string>)[key]);
    }
  }

  /** @internal Makes headers read-only (a received request's, Response.error()'s). */
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
    const pair: [string, string] = [headerName(name), headerValue(value)];
    this.#check();
    this.#list.push(pair);
  }

  delete(name: string): void {
    const n = headerName(name);
    this.#check();
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
    const n = headerName(name);
    const v = headerValue(value);
    this.#check();
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

/** Where a body's bytes come from. */
export type BodySource =
  | { bytes: Uint8Array }
  | { stream: unknown }
  | { read: ChunkReader; cancel?: (reason: unknown) => void };

const CHUNKED = Symbol('wfn.chunkedBody');

interface ChunkedBody {
  [CHUNKED]: { read: ChunkReader; cancel?: (reason: unknown) => void };
}

/**
 * A body init that delivers its bytes chunk by chunk (for fetch(): a response body as it
 * arrives). It becomes a ReadableStream only if the code reads `.body`.
 */
export function chunkedBody(read: ChunkReader, cancel?: (reason: unknown) => void): BodyInit {
  return { [CHUNKED]: { read, cancel } } as unknown as BodyInit;
}

export type BodyInit = string | ArrayBuffer | ArrayBufferView | URLSearchParams | object | null | undefined;

/** Body source plus the Content-Type the body implies (string -> text/plain, params -> urlencoded). */
function extractBody(body: BodyInit): { source: BodySource | null; type: string | null } {
  if (body === null || body === undefined) return { source: null, type: null };
  if (typeof body === 'string') return { source: { bytes: utf8Encode(body) }, type: 'text/plain;charset=UTF-8' };
  if (body instanceof URLSearchParams) {
    return { source: { bytes: utf8Encode(body.toString()) }, type: 'application/x-www-form-urlencoded;charset=UTF-8' };
  }
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return { source: { bytes: toBytes(body, 'body').slice() }, type: null };
  if (hooks.blob?.isBlob(body)) {
    const { bytes, type } = hooks.blob.contents(body);
    return { source: { bytes }, type: type || null };
  }
  if (hooks.formData?.isFormData(body)) {
    const { bytes, type } = hooks.formData.serialize(body);
    return { source: { bytes }, type };
  }
  if (hooks.streams?.isReadableStream(body)) {
    if (hooks.streams.isDisturbed(body) || hooks.streams.isLocked(body)) throw new TypeError('The ReadableStream body has already been read or is locked');
    return { source: { stream: body }, type: null };
  }
  if (typeof body === 'object' && CHUNKED in body) return { source: { ...(body as ChunkedBody)[CHUNKED] }, type: null };
  if (typeof (body as { getReader?: unknown }).getReader === 'function') throw leftOut('A ReadableStream body', 'ReadableStream');
  return { source: { bytes: utf8Encode(String(body)) }, type: 'text/plain;charset=UTF-8' };
}

const EMPTY = new Uint8Array(0);

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function readAll(read: ChunkReader): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let chunk = await read(); chunk !== null; chunk = await read()) {
    chunks.push(chunk);
    total += chunk.length;
  }
  return chunks.length ? concat(chunks, total) : EMPTY;
}

/** Two readers that each see every chunk of `read` (clone() of a body without the streams module). */
function teeReader(read: ChunkReader): [ChunkReader, ChunkReader] {
  const queues: Uint8Array[][] = [[], []];
  let done = false;
  let pulling: Promise<void> | null = null;
  const pull = async () => {
    const chunk = await read();
    if (chunk === null) done = true;
    else for (const q of queues) q.push(chunk);
  };
  const branch = (q: Uint8Array[]): ChunkReader => async () => {
    while (q.length === 0 && !done) {
      pulling ??= pull().finally(() => (pulling = null));
      await pulling;
    }
    return q.shift() ?? null;
  };
  return [branch(queues[0]), branch(queues[1])];
}

function oneChunk(bytes: Uint8Array): ChunkReader {
  let sent = false;
  return async () => {
    if (sent || bytes.length === 0) return null;
    sent = true;
    return bytes;
  };
}

/** The body methods Request and Response share. */
abstract class Body {
  #source: BodySource | null;
  #used = false;

  constructor(source: BodySource | null) {
    this.#source = source;
  }

  abstract get headers(): Headers;

  /** A ReadableStream of the body (created on first access), or null when there is none. */
  get body(): unknown {
    const source = this.#source;
    if (source === null) return null;
    if ('stream' in source) return source.stream;
    const streams = hooks.streams;
    if (!streams) throw leftOut('request.body / response.body (a ReadableStream)', 'ReadableStream');
    // A byte stream takes over (detaches) each chunk's buffer, and bytes may be shared with clones: a copy.
    const read = this.#used ? oneChunk(EMPTY) : 'bytes' in source ? oneChunk(source.bytes.slice()) : source.read;
    const stream = streams.fromReader(read, 'read' in source ? source.cancel : undefined);
    this.#source = { stream };
    return stream;
  }

  get bodyUsed(): boolean {
    const source = this.#source;
    if (source && 'stream' in source) return hooks.streams!.isDisturbed(source.stream);
    return this.#used;
  }

  async #consume(): Promise<Uint8Array> {
    if (this.bodyUsed) throw new TypeError('Body has already been used');
    const source = this.#source;
    this.#used = true;
    if (source === null) return EMPTY;
    if ('bytes' in source) return source.bytes;
    if ('read' in source) return readAll(source.read);
    if (hooks.streams!.isLocked(source.stream)) throw new TypeError('Body is locked (a reader holds its stream)');
    return readAll(hooks.streams!.reader(source.stream));
  }

  /** @internal Where the body comes from, without consuming it (serve.ts writes it out). */
  static source(body: Body): BodySource | null {
    return body.#source;
  }

  /** @internal A second source with the same bytes for clone(); this body keeps the other half. */
  static split(body: Body): BodySource | null {
    if (body.bodyUsed) throw new TypeError('clone(): the body has already been used');
    const source = body.#source;
    if (source === null || 'bytes' in source) return source;
    if ('stream' in source) {
      if (hooks.streams!.isLocked(source.stream)) throw new TypeError('clone(): the body is locked');
      const [a, b] = hooks.streams!.tee(source.stream);
      body.#source = { stream: a };
      return { stream: b };
    }
    const [a, b] = teeReader(source.read);
    body.#source = { read: a, cancel: source.cancel };
    return { read: b };
  }

  /** @internal Gives a fresh copy (clone()) the source split off for it. */
  static replace(body: Body, source: BodySource | null): void {
    body.#source = source;
    body.#used = false;
  }

  /** @internal Moves the body to a new Request built from this one (the spec's "take over"). */
  static take(body: Body): BodySource | null {
    if (body.bodyUsed) throw new TypeError('Request: the body of the input request has already been used');
    const source = body.#source;
    if (source && !('bytes' in source)) body.#used = true;
    return source;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.#consume();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array> {
    return (await this.#consume()).slice();
  }

  async text(): Promise<string> {
    return utf8Decode(await this.#consume());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async blob(): Promise<unknown> {
    if (!hooks.blob) throw leftOut('body.blob()', 'Blob');
    const bytes = await this.#consume();
    return hooks.blob.create(bytes.slice(), this.headers.get('content-type') ?? '');
  }

  async formData(): Promise<unknown> {
    if (!hooks.formData) throw leftOut('body.formData()', 'FormData');
    const type = this.headers.get('content-type') ?? '';
    const bytes = await this.#consume();
    return hooks.formData.parse(bytes, type);
  }
}

export interface RequestInit {
  method?: string;
  headers?: HeadersInit;
  body?: BodyInit;
  redirect?: string;
  signal?: unknown;
  duplex?: string;
  cache?: string;
  credentials?: string;
  integrity?: string;
  keepalive?: boolean;
  mode?: string;
  referrer?: string;
  referrerPolicy?: string;
}

/**
 * @internal Lets the CGI bridge give a GET/HEAD request the body it really arrived with
 * (stdin), which the Request constructor refuses for user code.
 */
export const ANY_METHOD_BODY = Symbol('wfn.anyMethodBody');

/**
 * @internal The URL comes from the host (X_FULL_URL): when it already has the form the URL
 * parser would give it, it is taken as it is. Parsing it costs ~0.6 ms of a ~1 ms request in
 * QuickJS; a host URL that is not plainly canonical (e.g. Fastly's raw URI) is still parsed.
 */
export const SERIALIZED_URL = Symbol('wfn.serializedUrl');

const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
const NORMALIZED_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT']);
const REDIRECT_MODES = new Set(['follow', 'error', 'manual']);

export class Request extends Body {
  readonly #method: string;
  readonly #url: string;
  readonly #headers: Headers;
  readonly #redirect: string;
  #signal: unknown;
  readonly #init: RequestInit;

  constructor(input: string | URL | Request, init: RequestInit = {}) {
    const from = input instanceof Request ? input : null;
    init = init ?? {};
    let method = init.method ?? from?.method ?? 'GET';
    if (!TOKEN.test(method)) throw new TypeError(`Request: invalid method "${method}"`);
    if (NORMALIZED_METHODS.has(method.toUpperCase())) method = method.toUpperCase();
    if (FORBIDDEN_METHODS.has(method.toUpperCase())) throw new TypeError(`Request: method ${method} is forbidden`);
    let url: string;
    if (from) url = from.url;
    else if ((init as { [SERIALIZED_URL]?: boolean })[SERIALIZED_URL] && plainlyCanonical(String(input))) url = String(input);
    else {
      try {
        url = new URL(String(input)).href;
      } catch {
        throw new TypeError(`Request: invalid URL "${String(input)}" (a relative URL needs a base: there is no page here)`);
      }
    }
    const redirect = init.redirect ?? from?.redirect ?? 'follow';
    if (!REDIRECT_MODES.has(redirect)) throw new TypeError(`Request: invalid redirect mode "${redirect}"`);
    if (init.signal !== undefined && init.signal !== null && !hooks.signal?.isSignal(init.signal)) {
      throw new TypeError('Request: signal must be an AbortSignal');
    }
    const headers = new Headers(init.headers ?? from?.headers);
    let source: BodySource | null = null;
    if (init.body !== undefined && init.body !== null) {
      if ((method === 'GET' || method === 'HEAD') && !(init as { [ANY_METHOD_BODY]?: boolean })[ANY_METHOD_BODY]) {
        throw new TypeError('Request with GET/HEAD method cannot have body');
      }
      const extracted = extractBody(init.body);
      source = extracted.source;
      if (extracted.type && !headers.has('content-type')) headers.set('content-type', extracted.type);
    } else if (from) {
      source = Body.take(from);
    }
    super(source);
    this.#method = method;
    this.#url = url;
    this.#headers = headers;
    this.#redirect = redirect;
    this.#signal = init.signal ?? (from ? from.#signal : undefined);
    this.#init = { ...(from ? from.#init : {}), ...init };
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

  /** The request's AbortSignal (one that is never aborted unless the init gave one). */
  get signal(): unknown {
    if (this.#signal === undefined && hooks.signal) this.#signal = hooks.signal.neverAborted();
    return this.#signal ?? null;
  }

  clone(): Request {
    const source = Body.split(this);
    const copy = new Request(this.#url, { ...this.#init, method: this.#method, headers: this.#headers, redirect: this.#redirect, body: null });
    copy.#signal = this.#signal;
    Body.replace(copy, source);
    return copy;
  }

  /** @internal The init a request was made with (the fetch options wfn keeps but does not act on). */
  static init(request: Request): RequestInit {
    return request.#init;
  }

  get [Symbol.toStringTag](): string {
    return 'Request';
  }
}

/** Request attributes a server-side function has no use for, with the values a request without them has. */
const REQUEST_DEFAULTS: [keyof RequestInit | 'destination', unknown][] = [
  ['cache', 'default'], ['credentials', 'same-origin'], ['destination', ''], ['integrity', ''], ['keepalive', false],
  ['mode', 'cors'], ['referrer', 'about:client'], ['referrerPolicy', ''], ['duplex', 'half'],
];
for (const [name, fallback] of REQUEST_DEFAULTS) {
  Object.defineProperty(Request.prototype, name, {
    get(this: Request) {
      return name === 'destination' || name === 'duplex' ? fallback : (Request.init(this)[name] ?? fallback);
    },
    configurable: true,
    enumerable: true,
  });
}

export interface ResponseInit {
  status?: number;
  statusText?: string;
  headers?: HeadersInit;
}

/** What only the runtime may set: Response.error()'s status 0, fetch()'s url and type. */
export interface ResponseInternals {
  status: number;
  statusText?: string;
  headers?: Headers;
  source: BodySource | null;
  type: 'default' | 'basic' | 'cors' | 'error' | 'opaque' | 'opaqueredirect';
  url?: string;
  redirected?: boolean;
}

const INTERNAL = Symbol('wfn.responseInternals');

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const REASON_PHRASE = /^[\t !-~\x80-\xff]*$/;

export class Response extends Body {
  #status: number;
  #statusText: string;
  #headers: Headers;
  #type: ResponseInternals['type'];
  #url: string;
  #redirected: boolean;

  constructor(body: BodyInit = null, init: ResponseInit = {}) {
    const internals = (init as { [INTERNAL]?: ResponseInternals } | undefined)?.[INTERNAL];
    if (internals) {
      super(internals.source);
      this.#status = internals.status;
      this.#statusText = internals.statusText ?? '';
      this.#headers = internals.headers ?? new Headers();
      this.#type = internals.type;
      this.#url = internals.url ?? '';
      this.#redirected = Boolean(internals.redirected);
      return;
    }
    init = init ?? {};
    const status = init.status === undefined ? 200 : Number(init.status);
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`Response: status ${init.status} is outside 200-599`);
    }
    const statusText = init.statusText === undefined ? '' : String(init.statusText);
    if (!REASON_PHRASE.test(statusText)) throw new TypeError('Response: invalid statusText');
    const headers = new Headers(init.headers);
    const extracted = extractBody(body);
    if (extracted.source !== null && NULL_BODY_STATUSES.has(status)) {
      throw new TypeError(`Response with status ${status} cannot have a body`);
    }
    if (extracted.type && !headers.has('content-type')) headers.set('content-type', extracted.type);
    super(extracted.source);
    this.#status = status;
    this.#statusText = statusText;
    this.#headers = headers;
    this.#type = 'default';
    this.#url = '';
    this.#redirected = false;
  }

  /** @internal A response with what user code cannot set (see ResponseInternals). */
  static internal(internals: ResponseInternals): Response {
    return new Response(null, { [INTERNAL]: internals } as ResponseInit);
  }

  static json(data: unknown, init: ResponseInit = {}): Response {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError('Response.json: the value cannot be serialized as JSON');
    const headers = new Headers(init?.headers);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    return new Response(text, { ...init, headers });
  }

  static redirect(url: string | URL, status = 302): Response {
    if (!REDIRECT_STATUSES.has(status)) throw new RangeError(`Response.redirect: ${status} is not a redirect status`);
    const headers = Headers.freeze(new Headers({ location: new URL(String(url)).href }));
    return Response.internal({ status, headers, source: null, type: 'default' });
  }

  /** A network error: status 0, type "error", immutable headers. A function returning one answers 502. */
  static error(): Response {
    return Response.internal({ status: 0, headers: Headers.freeze(new Headers()), source: null, type: 'error' });
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
    return this.#url;
  }

  get redirected(): boolean {
    return this.#redirected;
  }

  clone(): Response {
    const source = Body.split(this);
    const headers = new Headers(this.#headers);
    if (this.#type === 'error') Headers.freeze(headers);
    return Response.internal({
      status: this.#status, statusText: this.#statusText, headers, source, type: this.#type, url: this.#url, redirected: this.#redirected,
    });
  }

  get [Symbol.toStringTag](): string {
    return 'Response';
  }
}

/** @internal For serve.ts: where a response's body comes from, without consuming it. */
export function bodySource(body: Request | Response): BodySource | null {
  return Body.source(body);
}
