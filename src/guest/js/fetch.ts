/**
 * The global fetch() on wfn's outbound HTTP API (wfn_http_v1, through the world's http-*
 * host functions). Each call blocks the function until the response is in, so fetch()
 * settles as soon as it runs. Redirects are followed here, one host call per hop (the host
 * checks `[outbound] allow` on every call), so the WHATWG rules apply: 303 (and 301/302 after
 * a POST) become GET, credentials do not follow to another origin, `redirect: 'manual'`
 * returns the 3xx and 'error' rejects; `response.url` and `redirected` are the final ones.
 * A signal's deadline (AbortSignal.timeout) becomes the call's own timeout at the host.
 *
 * TODO(issue 16): `response.body` as a ReadableStream and ReadableStream request bodies
 * once the runtime has streams; the body is read in full here (bounded by
 * `[outbound] max_response_bytes`) and is a Uint8Array.
 */
import { httpBodyRead, httpClose, httpErrorMessage, httpHeaders, httpSend, httpStatus, log } from 'wfn:fn/host';
import { AbortSignal } from './abort.js';
import { utf8Encode } from './encoding.js';
import { bodyBytes, Headers, Request, Response, type RequestInit } from './http.js';
import { notDuringInit } from './phase.js';
import { URL } from './url.js';

const ERROR = { DENIED: 1, TIMEOUT: 3 } as const;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
const MAX_REDIRECTS = 20;
/** Flags bits 8-31 hold the call's own timeout in ms. */
const TIMEOUT_SHIFT = 8;
const MAX_CALL_TIMEOUT = 0xffffff;
const BODY_CHUNK = 1024 * 1024;
/** Dropped when a redirect turns the request into a GET. */
const BODY_HEADERS = new Set(['content-type', 'content-encoding', 'content-language', 'content-location']);
/** Not sent on to another origin. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);

/** The response of a fetch: url and redirected as the fetch ended. */
class FetchedResponse extends Response {
  readonly #url: string;
  readonly #redirected: boolean;

  constructor(body: Uint8Array | null, init: { status: number; headers: Headers }, url: string, redirected: boolean) {
    super(body, init);
    this.#url = url;
    this.#redirected = redirected;
  }

  get url(): string {
    return this.#url;
  }

  get redirected(): boolean {
    return this.#redirected;
  }

  get type(): string {
    return 'basic';
  }
}

function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

function headerLines(pairs: [string, string][]): Uint8Array {
  // Values are ByteStrings after Headers' checks for ASCII; others are sent as UTF-8.
  return utf8Encode(pairs.map(([name, value]) => `${name}: ${value}\n`).join(''));
}

function parseHeaderLines(bytes: Uint8Array): Headers {
  const headers = new Headers();
  for (const line of latin1(bytes).split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon), line.slice(colon + 1));
  }
  return Headers.freeze(headers);
}

function originOf(url: URL): string {
  return `${url.protocol}//${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}

/** The host's error as a rejection: TypeError (fetch's network error) with the host's message. */
function failure(thrown: unknown, url: URL, signal: AbortSignal | undefined, redirectedFrom?: URL): unknown {
  // A result's err comes as an Error whose payload is the code.
  const code = (thrown as { payload?: unknown } | null)?.payload ?? thrown;
  if (typeof code !== 'number') return thrown;
  if (code === ERROR.TIMEOUT && signal && AbortSignal.remainingMs(signal) === 0) return signal.reason;
  let message = '';
  try {
    message = httpErrorMessage();
  } catch {
    // keep the fallback below
  }
  if (code === ERROR.DENIED && redirectedFrom) {
    // The host's words for a refused redirect hop (it follows redirects itself for the other languages).
    message = `outbound request to ${originOf(redirectedFrom)} redirected to ${originOf(url)}, denied: not in [outbound] allow of wfn.toml`;
  } else if (!message && code === ERROR.DENIED) {
    // Built without [outbound] allow: the host imported nothing, so the message and log line are ours.
    message = `outbound request to ${originOf(url)} denied: not in [outbound] allow of wfn.toml`;
    log(utf8Encode(`wfn outbound: ${message}\n`));
  }
  const error = new TypeError(`fetch failed: ${message || `outbound error ${String(code)}`}`);
  (error as { cause?: unknown }).cause = { code, message };
  return error;
}

/**
 * The whole body. Each read allocates its maximum in the function's memory, so with a
 * content-length the reads ask for exactly that many bytes (and make no final empty read);
 * without one they grow from 64 KiB until an empty read.
 */
function readBody(handle: number, declared: number | undefined): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    if (declared !== undefined && total >= declared) break;
    // Unknown length: 64 KiB first, doubling up to BODY_CHUNK as the body proves large.
    const max = declared !== undefined ? Math.min(BODY_CHUNK, declared - total) : Math.min(BODY_CHUNK, 65536 * 2 ** chunks.length);
    const chunk = httpBodyRead(handle, max);
    if (chunk.length === 0) break;
    chunks.push(chunk);
    total += chunk.length;
  }
  if (chunks.length <= 1) return chunks[0] ?? new Uint8Array(0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

export async function fetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  notDuringInit('fetch()');
  const request = new Request(input as string, init);
  const signal = (init.signal ?? (input as { signal?: unknown })?.signal ?? undefined) as AbortSignal | undefined;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError("fetch: init.signal must be an AbortSignal");
  signal?.throwIfAborted();
  const mode = request.redirect;
  if (mode !== 'follow' && mode !== 'manual' && mode !== 'error') throw new TypeError(`fetch: redirect must be "follow", "manual" or "error", not "${mode}"`);

  let url = new URL(request.url);
  const first = url;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`fetch failed: the scheme "${url.protocol.slice(0, -1)}" is not supported (only http and https)`);
  let method = request.method;
  let headers: [string, string][] = Headers.raw(request.headers).map(([k, v]) => [k, v]);
  let body = bodyBytes(request) ?? new Uint8Array(0);
  for (let redirects = 0; ; redirects++) {
    const remaining = signal ? AbortSignal.remainingMs(signal) : Infinity;
    if (remaining === 0) signal!.throwIfAborted();
    const timeout = remaining === Infinity ? 0 : Math.min(MAX_CALL_TIMEOUT, Math.max(1, Math.ceil(remaining)));
    let handle: number;
    try {
      handle = httpSend(method, url.href, headerLines(headers), body, timeout * 2 ** TIMEOUT_SHIFT);
    } catch (code) {
      throw failure(code, url, signal, redirects > 0 ? first : undefined);
    }
    let status: number;
    let responseHeaders: Headers;
    let responseBody: Uint8Array;
    try {
      status = httpStatus(handle);
      responseHeaders = parseHeaderLines(httpHeaders(handle));
      const length = responseHeaders.get('content-length');
      responseBody = readBody(handle, length !== null && /^\d+$/.test(length) ? Number(length) : undefined);
    } catch (code) {
      throw failure(code, url, signal);
    } finally {
      httpClose(handle);
    }
    const location = responseHeaders.get('location');
    if (REDIRECTS.has(status) && location !== null && mode !== 'manual') {
      if (mode === 'error') throw new TypeError(`fetch failed: ${originOf(url)} answered a redirect and redirect is "error"`);
      if (redirects >= MAX_REDIRECTS) throw new TypeError(`fetch failed: more than ${MAX_REDIRECTS} redirects`);
      let next: URL;
      try {
        next = new URL(location, url.href);
      } catch {
        throw new TypeError(`fetch failed: the redirect location "${location}" is not a URL`);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new TypeError(`fetch failed: redirected to the unsupported scheme "${next.protocol.slice(0, -1)}"`);
      if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
        method = 'GET';
        body = new Uint8Array(0);
        headers = headers.filter(([name]) => !BODY_HEADERS.has(name));
      }
      if (originOf(next) !== originOf(url)) headers = headers.filter(([name]) => !CREDENTIAL_HEADERS.has(name));
      url = next;
      continue;
    }
    if (status < 200 || status > 599) throw new TypeError(`fetch failed: ${originOf(url)} answered the status ${status}`);
    const withoutBody = NULL_BODY.has(status) || method === 'HEAD';
    return new FetchedResponse(withoutBody ? null : responseBody, { status, headers: responseHeaders }, url.href, redirects > 0);
  }
}


