/**
 * The bridge between CGI and the user's `export default { fetch(request, env, ctx) }`:
 * environment + stdin -> Request, the handler's Response -> CGI output bytes. `handle` is
 * the world's async export; the engine drives QuickJS's job queue until its promise settles.
 * A body in memory is returned with the header block as `handle`'s result; a streamed body
 * (a ReadableStream, a fetch() body) is written to stdout chunk by chunk as it is produced,
 * after the header block, and `handle` then returns nothing more.
 */
import { fail, log, writeStdout } from 'wfn:fn/host';
import { inspect } from './console.js';
import { reseedMathRandom } from './crypto.js';
import { utf8Encode } from './encoding.js';
import { hooks } from './hooks.js';
import { ANY_METHOD_BODY, bodySource, Headers, Request, Response, SERIALIZED_URL, type RequestInit } from './http.js';
import { startRequest } from './phase.js';
import { resetClock } from './platform.js';
import { onTimerError, stopTimers } from './timers.js';

/** The CGI variables of the function contract (docs/contract.md); everything else is the function's env. */
const CGI_VARIABLES = new Set([
  'AUTH_TYPE', 'CONTENT_LENGTH', 'CONTENT_TYPE', 'GATEWAY_INTERFACE', 'PATH_INFO', 'PATH_TRANSLATED', 'QUERY_STRING',
  'REMOTE_ADDR', 'REMOTE_HOST', 'REMOTE_IDENT', 'REMOTE_USER', 'REQUEST_METHOD', 'SCRIPT_NAME', 'SERVER_NAME',
  'SERVER_PORT', 'SERVER_PROTOCOL', 'SERVER_SOFTWARE', 'X_RAW_PATH_INFO', 'X_MATCHED_ROUTE', 'X_FULL_URL',
]);

const REASONS: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 203: 'Non-Authoritative Information', 204: 'No Content',
  205: 'Reset Content', 206: 'Partial Content', 300: 'Multiple Choices', 301: 'Moved Permanently', 302: 'Found',
  303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request',
  401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  406: 'Not Acceptable', 408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 411: 'Length Required',
  412: 'Precondition Failed', 413: 'Payload Too Large', 414: 'URI Too Long', 415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable', 417: 'Expectation Failed', 418: "I'm a teapot", 422: 'Unprocessable Entity',
  425: 'Too Early', 426: 'Upgrade Required', 428: 'Precondition Required', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 451: 'Unavailable For Legal Reasons', 500: 'Internal Server Error',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

type Fetch = (request: Request, env: Record<string, unknown>, ctx: ExecutionContext) => unknown;

function logLine(text: string): void {
  log(utf8Encode(text.endsWith('\n') ? text : text + '\n'));
}

const BAD_GATEWAY = utf8Encode('Status: 502 Bad Gateway\nContent-Type: text/plain; charset=utf-8\n\nBad Gateway\n');
const INTERNAL_ERROR = utf8Encode('Status: 500 Internal Server Error\nContent-Type: text/plain; charset=utf-8\n\nInternal Server Error\n');

/** The request the CGI environment describes. */
export function requestFromCgi(vars: Map<string, string>, body: Uint8Array): Request {
  const method = vars.get('REQUEST_METHOD') || 'GET';
  const query = vars.get('QUERY_STRING') ?? '';
  const url =
    vars.get('X_FULL_URL') ||
    `http://${vars.get('SERVER_NAME') || 'localhost'}${vars.get('SERVER_PORT') && vars.get('SERVER_PORT') !== '80' ? ':' + vars.get('SERVER_PORT') : ''}` +
      `${vars.get('SCRIPT_NAME') ?? ''}${vars.get('X_RAW_PATH_INFO') ?? vars.get('PATH_INFO') ?? '/'}${query ? '?' + query : ''}`;
  const headers = new Headers();
  for (const [name, value] of vars) {
    if (name.startsWith('HTTP_')) headers.append(name.slice(5).toLowerCase().replace(/_/g, '-'), value);
  }
  if (vars.get('CONTENT_TYPE')) headers.set('content-type', vars.get('CONTENT_TYPE')!);
  if (body.length > 0) headers.set('content-length', String(body.length));
  const hasBody = body.length > 0 || (method !== 'GET' && method !== 'HEAD');
  const init = { method, headers, body: hasBody ? body : null, [ANY_METHOD_BODY]: true, [SERIALIZED_URL]: Boolean(vars.get('X_FULL_URL')) };
  const request = new Request(url, init as RequestInit);
  Headers.freeze(request.headers);
  // The raw CGI variables, wfn's counterpart of Cloudflare's request.cf (e.g. PATH_INFO below the route).
  const cgi: Record<string, string> = {};
  for (const [name, value] of vars) if (CGI_VARIABLES.has(name) || name.startsWith('HTTP_')) cgi[name] = value;
  Object.defineProperty(request, 'cgi', { value: Object.freeze(cgi), enumerable: false });
  return request;
}

/** The function's configured variables: the environment minus CGI and HTTP_* variables. */
export function userEnv(pairs: [string, string][]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of pairs) {
    if (!CGI_VARIABLES.has(name) && !name.startsWith('HTTP_')) env[name] = value;
  }
  return env;
}

function headBlock(response: Response): Uint8Array {
  const reason = response.statusText || REASONS[response.status] || '';
  let head = `Status: ${response.status}${reason ? ' ' + reason : ''}\n`;
  for (const [name, value] of Headers.raw(response.headers)) head += `${name}: ${value}\n`;
  return utf8Encode(head + '\n');
}

const NOTHING = new Uint8Array(0);

/**
 * CGI output: Status line, every header (repeated ones kept), blank line, body bytes. A
 * streamed body is written to stdout here as it arrives, and the result is empty.
 */
export async function writeCgi(response: Response): Promise<Uint8Array> {
  if (response.type === 'error') {
    logLine('fetch() returned Response.error() (a network error): answered 502');
    return BAD_GATEWAY;
  }
  if (response.bodyUsed) throw new TypeError('fetch() returned a Response whose body has already been read');
  const source = bodySource(response);
  const head = headBlock(response);
  if (source === null || 'bytes' in source) {
    const body = source?.bytes ?? NOTHING;
    if (body.length === 0) return head;
    const out = new Uint8Array(head.length + body.length);
    out.set(head);
    out.set(body, head.length);
    return out;
  }
  if ('stream' in source && hooks.streams!.isLocked(source.stream)) throw new TypeError('fetch() returned a Response whose body stream is locked');
  const read = 'stream' in source ? hooks.streams!.reader(source.stream) : source.read;
  writeStdout(head);
  try {
    for (let chunk = await read(); chunk !== null; chunk = await read()) if (chunk.length) writeStdout(chunk);
  } catch (error) {
    // The header block is out: the client gets the body up to here, the log gets the reason.
    logLine(`Uncaught (in the response body stream) ${inspect(error)}`);
  }
  return NOTHING;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return typeof value;
}

/**
 * componentize-qjs leaves its own namespaces on globalThis (`__cqjs`, `wit`). The engine reads
 * them while the snapshot is made and when a request's call starts, not after: a request
 * removes them before the user's code runs (each request starts from the snapshot again).
 */
function hideEngineInternals(): void {
  delete (globalThis as Record<string, unknown>).__cqjs;
  delete (globalThis as Record<string, unknown>).wit;
}

/** Finds `fetch` on the module's default export (an object with fetch, e.g. a Hono app, or a function). */
function findFetch(module: Record<string, unknown>): { fetch: Fetch; self: unknown } {
  const exported = module.default;
  if (exported && typeof (exported as { fetch?: unknown }).fetch === 'function') {
    return { fetch: (exported as { fetch: Fetch }).fetch, self: exported };
  }
  if (typeof exported === 'function') return { fetch: exported as Fetch, self: undefined };
  throw new Error('the script must `export default { async fetch(request, env) { ... return new Response(...) } }`');
}

/** Builds the world's `handle` export around the user's module. Runs at initialization. */
export function serve(module: Record<string, unknown>): (env: [string, string][], body: Uint8Array) => Promise<Uint8Array> {
  const { fetch, self } = findFetch(module);
  onTimerError((error) => logLine(`Uncaught (in timer) ${inspect(error)}`));
  return async function handleRequest(envPairs: [string, string][], body: Uint8Array): Promise<Uint8Array> {
    startRequest();
    resetClock();
    hideEngineInternals();
    reseedMathRandom();
    const pending: Promise<unknown>[] = [];
    const ctx: ExecutionContext = {
      waitUntil(promise) {
        pending.push(Promise.resolve(promise).catch((error) => logLine(`Uncaught (in waitUntil) ${inspect(error)}`)));
      },
      passThroughOnException() {},
    };
    let output: Uint8Array;
    try {
      const request = requestFromCgi(new Map(envPairs), body);
      const env: Record<string, unknown> = userEnv(envPairs);
      hooks.kv?.bind(env);
      const response = await fetch.call(self, request, env, ctx);
      if (!(response instanceof Response)) {
        throw new TypeError(`fetch() must return a Response (or a promise of one), got ${describe(response)}`);
      }
      output = await writeCgi(response);
    } catch (error) {
      // The function's failure, as a panic is in Rust: a 500, the error on stderr, exit code 1.
      logLine(`Uncaught ${inspect(error)}`);
      fail();
      output = INTERNAL_ERROR;
    }
    // waitUntil work and its timers keep running after the response is written; then timers stop.
    void Promise.all(pending).then(stopTimers);
    return output;
  };
}
