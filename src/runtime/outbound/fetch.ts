/**
 * One outbound call over the platform's `fetch()`, as the API defines it: redirects handled
 * here (`redirect: 'manual'`) so the allow list is checked on every hop, the per-call timeout
 * over the whole call, the response body read in full up to the size limit. Platform-neutral:
 * Node hosts run it on the thread that does the network, a Worker in its own event loop.
 */
import { MAX_REDIRECTS, type OutboundError, type OutboundRequest, type OutboundResponse, type OutboundResult, type OutboundSettings } from './abi.js';
import { outboundErrors } from './messages.js';
import { checkOutboundUrl, originOf, type OutboundPolicy } from './policy.js';

export interface PerformFetchOptions {
  policy: OutboundPolicy;
  settings: OutboundSettings;
  /** Aborted when the invocation ends (or its thread is gone): the call stops at once. */
  signal?: AbortSignal;
  fetch?: typeof fetch;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that describe a body: dropped when a redirect turns the request into a GET. */
export const BODY_HEADERS = new Set(['content-type', 'content-encoding', 'content-language', 'content-location']);
/** Credentials do not follow a redirect to another origin (WHATWG fetch drops authorization too). */
export const CREDENTIAL_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);
/** Encodings fetch() decodes: the body handed on is decoded, so these headers would be false. */
const DECODED = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

class CallError extends Error {
  constructor(readonly error: OutboundError) {
    super(error.message);
  }
}

export async function performFetch(request: OutboundRequest, options: PerformFetchOptions): Promise<OutboundResult> {
  const timeoutMs = callTimeout(request, options.settings);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  const onEnd = () => timeout.abort();
  options.signal?.addEventListener('abort', onEnd, { once: true });
  const first = new URL(request.url);
  try {
    return { response: await follow(request, first, options, timeout.signal) };
  } catch (error) {
    if (error instanceof CallError) return { error: error.error };
    if (options.signal?.aborted) return { error: outboundErrors.failed(originOf(first), 'the invocation ended') };
    if (timeout.signal.aborted) return { error: outboundErrors.timeout(originOf(first), timeoutMs, timeoutMs < options.settings.timeoutMs) };
    return { error: outboundErrors.unreachable(originOf(first), describeNetworkError(error)) };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onEnd);
  }
}

/** The call's timeout: `[outbound] timeout_ms`, or the guest's own when it is shorter. */
export function callTimeout(request: OutboundRequest, settings: OutboundSettings): number {
  return request.timeoutMs !== undefined ? Math.min(request.timeoutMs, settings.timeoutMs) : settings.timeoutMs;
}

async function follow(request: OutboundRequest, first: URL, options: PerformFetchOptions, signal: AbortSignal): Promise<OutboundResponse> {
  const doFetch = options.fetch ?? fetch;
  let url = first;
  let method = request.method;
  let body: Uint8Array | undefined = request.body.length > 0 ? request.body : undefined;
  let headers = request.headers;
  for (let hop = 0; ; hop++) {
    if (!options.policy.allows(url)) {
      throw new CallError(hop === 0 ? outboundErrors.denied(originOf(url)) : outboundErrors.redirectDenied(originOf(first), originOf(url)));
    }
    const response = await doFetch(url.href, { method, headers, body: body as Uint8Array<ArrayBuffer> | undefined, redirect: 'manual', signal });
    const location = response.headers.get('location');
    if (!request.followRedirects || !REDIRECTS.has(response.status) || location === null) {
      return { status: response.status, headers: responseHeaders(response.headers), body: await readBody(response, url, options.settings.maxResponseBytes) };
    }
    await response.body?.cancel().catch(() => {});
    if (hop + 1 > MAX_REDIRECTS) throw new CallError(outboundErrors.tooManyRedirects(originOf(first), MAX_REDIRECTS));
    const next = checkOutboundUrl(new URL(location, url).href);
    if (typeof next === 'string') throw new CallError(outboundErrors.failed(originOf(first), `redirected to a location that cannot be followed: ${next}`));
    if (response.status !== 307 && response.status !== 308) {
      if (method !== 'HEAD') method = 'GET';
      body = undefined;
      headers = headers.filter(([name]) => !BODY_HEADERS.has(name));
    }
    if (originOf(next) !== originOf(url)) headers = headers.filter(([name]) => !CREDENTIAL_HEADERS.has(name));
    url = next;
  }
}

/** Lower-case names in order; set-cookie lines kept apart (fetch joins other repeated names with ", "). */
function responseHeaders(headers: Headers): [string, string][] {
  const pairs: [string, string][] = [];
  headers.forEach((value, name) => pairs.push([name, value]));
  const encoding = headers.get('content-encoding');
  if (encoding && DECODED.has(encoding.trim().toLowerCase())) {
    return pairs.filter(([name]) => name !== 'content-encoding' && name !== 'content-length');
  }
  return pairs;
}

async function readBody(response: Response, url: URL, max: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > max) {
    await response.body?.cancel().catch(() => {});
    throw new CallError(outboundErrors.tooLarge(originOf(url), max));
  }
  if (!response.body) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw new CallError(outboundErrors.tooLarge(originOf(url), max));
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0] : new Uint8Array(await new Blob(chunks as Uint8Array<ArrayBuffer>[]).arrayBuffer());
}

/** fetch's "fetch failed" with the cause's code: "connection refused (ECONNREFUSED)". */
function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  const code = cause?.code;
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ECONNRESET: 'connection reset',
    EHOSTUNREACH: 'host unreachable',
    ENETUNREACH: 'network unreachable',
    UND_ERR_SOCKET: 'connection closed by the server',
  };
  if (code) return `${known[code] ?? cause?.message ?? 'network error'} (${code})`;
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
