/**
 * The CGI mapping of the function contract (WAGI's variables, with WAGI's defects fixed):
 * request -> environment + argv + stdin, and stdout -> response. Platform-neutral.
 */
import type { FunctionContext, HttpRequest, HttpResponse } from './types.js';
import { SERVER_SOFTWARE } from './version.js';

export class CgiParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CgiParseError';
  }
}

/**
 * The request cannot be carried by the CGI environment (a NUL in the decoded path, a path that is
 * not percent-encoded UTF-8): the client's fault, answered with 400, never counted as the function's.
 */
export class CgiRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CgiRequestError';
  }
}

export interface CgiInvocation {
  env: [string, string][];
  args: string[];
}

/** A query pair for argv, decoded leniently as WAGI does (QUERY_STRING stays raw, so nothing is lost). */
function decodeQueryPair(text: string): string {
  const plus = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

/**
 * Why the CGI environment cannot carry a request with this path and query (undefined when it
 * can). Environment strings and argv are NUL-terminated, and PATH_INFO is the decoded path.
 * Hosts call it before reading the body; buildCgiEnvironment enforces it for every target.
 */
export function cgiRequestProblem(rawPath: string, rawQuery: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return `the path ${JSON.stringify(rawPath.slice(0, 200))} is not percent-encoded UTF-8`;
  }
  if (path.includes('\0')) return 'the path decodes to a NUL character, which the CGI environment cannot carry';
  const query = rawQuery.startsWith('?') ? rawQuery.slice(1) : rawQuery;
  if (query.includes('%00') && query.split('&').some((pair) => decodeQueryPair(pair).includes('\0'))) {
    return 'a query parameter decodes to a NUL character, which argv cannot carry';
  }
  return undefined;
}

/** Strips the route prefix: "/hello" + "/hello/a/b" -> "/a/b"; route "/" keeps the whole path. */
export function pathBelowRoute(route: string, rawPath: string): string {
  const prefix = route.replace(/\/+$/, '');
  if (prefix === '') return rawPath;
  if (rawPath === prefix) return '';
  if (rawPath.startsWith(prefix + '/')) return rawPath.slice(prefix.length);
  return rawPath;
}

/** The header names that CGI carries in dedicated variables, not as HTTP_*. */
const NOT_AS_HTTP = new Set(['content-type', 'content-length']);
const HEADER_NAME = /^[a-z0-9-]+$/;

/** Throws CgiRequestError when the request cannot be carried (see cgiRequestProblem). */
export function buildCgiEnvironment(req: HttpRequest, fn: FunctionContext): CgiInvocation {
  let url: URL;
  try {
    url = new URL(req.url);
  } catch {
    throw new CgiRequestError(`the request URL ${JSON.stringify(req.url.slice(0, 200))} is not valid`);
  }
  const rawPath = url.pathname;
  const problem = cgiRequestProblem(rawPath, url.search);
  if (problem) throw new CgiRequestError(problem);
  if (!TOKEN.test(req.method)) throw new CgiRequestError(`the method ${JSON.stringify(req.method.slice(0, 40))} is not an HTTP token`);
  const rawPathInfo = pathBelowRoute(fn.route, rawPath);
  const query = url.search.startsWith('?') ? url.search.slice(1) : url.search;
  const scriptName = fn.route.replace(/\/+$/, '');
  let contentType = '';
  for (const [k, v] of req.headers) {
    if (k.length === 12 && k.toLowerCase() === 'content-type') {
      contentType = v;
      break;
    }
  }

  // Plain arrays and one pass per header: this runs on every request (profiled with --cpu-prof).
  const builtIns: [string, string][] = [
    ['REQUEST_METHOD', req.method.toUpperCase()],
    ['QUERY_STRING', query],
    ['PATH_INFO', decodeURIComponent(rawPathInfo)], // the whole path decoded above, so this part does too
    ['X_RAW_PATH_INFO', rawPathInfo],
    ['SCRIPT_NAME', scriptName],
    ['X_MATCHED_ROUTE', fn.route],
    ['X_FULL_URL', url.href],
    ['SERVER_NAME', url.hostname],
    ['SERVER_PORT', url.port || (url.protocol === 'https:' ? '443' : '80')],
    ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ['SERVER_SOFTWARE', SERVER_SOFTWARE],
    ['GATEWAY_INTERFACE', 'CGI/1.1'],
    ['REMOTE_ADDR', req.remoteAddr ?? ''],
    ['CONTENT_TYPE', contentType],
    ['CONTENT_LENGTH', String(req.body.length)],
  ];
  // Repeated request headers are joined as HTTP does (cookies with "; ").
  const grouped = new Map<string, [string, string]>();
  for (const [name, value] of req.headers) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(lower)) continue;
    // HTTP/1.1 parsers refuse it already; a host that builds requests itself may not.
    if (value.includes('\0')) throw new CgiRequestError(`the ${lower} header has a NUL character, which the CGI environment cannot carry`);
    if (NOT_AS_HTTP.has(lower)) continue;
    const entry = grouped.get(lower);
    if (entry) entry[1] += (lower === 'cookie' ? '; ' : ', ') + value;
    else {
      const pair: [string, string] = [`HTTP_${lower.toUpperCase().replace(/-/g, '_')}`, value];
      grouped.set(lower, pair);
      builtIns.push(pair);
    }
  }
  // Built-ins win over configured variables, and come after them.
  let env = builtIns;
  const configured = Object.keys(fn.env);
  if (configured.length > 0) {
    const names = new Set(builtIns.map(([k]) => k));
    env = [];
    for (const k of configured) if (!names.has(k)) env.push([k, fn.env[k]]);
    for (const pair of builtIns) env.push(pair);
  }

  // argv as WAGI: the path, then each query pair (decoded).
  const pairs = query === '' ? [] : query.split('&').map(decodeQueryPair);
  return { env, args: [rawPath, ...pairs] };
}

const REASONS: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found',
  303: 'See Other', 304: 'Not Modified', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  409: 'Conflict', 413: 'Payload Too Large', 429: 'Too Many Requests', 431: 'Request Header Fields Too Large', 499: 'Client Closed Request', 500: 'Internal Server Error',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

export function reasonPhrase(status: number): string {
  return REASONS[status] ?? '';
}

/** Headers the host owns: the function cannot set framing or connection handling. */
const HOP_BY_HOP = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_HEADER_BLOCK = 64 * 1024;

function findHeaderEnd(out: Uint8Array): { end: number; bodyStart: number } | undefined {
  const limit = Math.min(out.length, MAX_HEADER_BLOCK + 4);
  for (let i = 0; i < limit; i++) {
    if (out[i] !== 10) continue;
    // "\n\n" or "\n\r\n"
    if (out[i + 1] === 10) return { end: i, bodyStart: i + 2 };
    if (out[i + 1] === 13 && out[i + 2] === 10) return { end: i, bodyStart: i + 3 };
  }
  return undefined;
}

/**
 * Parses a CGI response: header lines (`Status`, `Location`, `Content-Type`, any other), a
 * blank line, then a binary-safe body. CR-LF or LF. At least one header is required.
 * Content-Length is the host's (it frames the body it sends); only the answer to a HEAD
 * (`head`), which has no body, keeps the function's as `headLength`.
 */
export function parseCgiResponse(stdout: Uint8Array, options: { head?: boolean } = {}): HttpResponse {
  if (stdout.length === 0) throw new CgiParseError('the function wrote nothing to stdout (expected CGI headers, a blank line, then the body)');
  // A response may start with the blank line only if it has no headers, which CGI does not allow.
  if (stdout[0] === 10 || (stdout[0] === 13 && stdout[1] === 10)) {
    throw new CgiParseError('the CGI header block is empty (expected at least Content-Type, Status or Location)');
  }
  const split = findHeaderEnd(stdout);
  if (!split) {
    throw new CgiParseError(
      stdout.length > MAX_HEADER_BLOCK
        ? `no blank line within the first ${MAX_HEADER_BLOCK} bytes of output (CGI headers too long or missing)`
        : 'no blank line after the CGI headers (expected "Content-Type: ...", a blank line, then the body)',
    );
  }
  const headerText = new TextDecoder('utf-8', { fatal: false }).decode(stdout.subarray(0, split.end));
  let status: number | undefined;
  let location = false;
  let declaredLength: string | undefined;
  const headers: [string, string][] = [];
  for (const rawLine of headerText.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new CgiParseError(`malformed CGI header line ${JSON.stringify(line.slice(0, 80))} (expected "Name: value")`);
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (!TOKEN.test(name)) throw new CgiParseError(`invalid header name ${JSON.stringify(name.slice(0, 80))}`);
    const lower = name.toLowerCase();
    if (lower === 'status') {
      const match = /^(\d{3})(?:\s.*)?$/.exec(value);
      const code = match ? Number(match[1]) : NaN;
      if (!(code >= 100 && code <= 999)) throw new CgiParseError(`invalid Status header ${JSON.stringify(value)} (expected e.g. "404 Not Found")`);
      // Two statuses is an ambiguous answer: no silent pick of one (the function's bug, a 502).
      if (status !== undefined) throw new CgiParseError(`more than one Status header (${status}, then ${code})`);
      status = code;
      continue;
    }
    if (lower === 'location') location = true;
    if (lower === 'content-length') declaredLength = value;
    if (HOP_BY_HOP.has(lower)) continue;
    headers.push([lower, value]);
  }
  // WAGI's defect fixed: an explicit Status is never overwritten by Location.
  const finalStatus = status ?? (location ? 302 : 200);
  const response: HttpResponse = { status: finalStatus, headers, body: stdout.subarray(split.bodyStart) };
  // (a length that is not plain digits, or a HEAD answered with a body, is framed as usual)
  if (options.head && response.body.length === 0 && declaredLength !== undefined && /^\d{1,15}$/.test(declaredLength)) {
    response.headLength = Number(declaredLength);
  }
  return response;
}

/** Serializes a response back into CGI output (the inverse of parseCgiResponse; used by tests and shims). */
export function formatCgiResponse(res: HttpResponse): Uint8Array {
  const lines = [`Status: ${res.status} ${reasonPhrase(res.status)}`.trimEnd(), ...res.headers.map(([k, v]) => `${k}: ${v}`)];
  const head = new TextEncoder().encode(lines.join('\n') + '\n\n');
  const out = new Uint8Array(head.length + res.body.length);
  out.set(head);
  out.set(res.body, head.length);
  return out;
}

/** The plain-text response for a failed invocation; the reason goes to the log, not to the client. */
export function errorResponse(status: number): HttpResponse {
  return {
    status,
    headers: [['content-type', 'text/plain; charset=utf-8']],
    body: new TextEncoder().encode(`${status} ${reasonPhrase(status)}\n`),
  };
}
