/**
 * HTTP <-> Lambda payload format 2.0 (Function URLs and API Gateway HTTP APIs share it).
 * Both directions live here: the handler (bundled into index.mjs) reads events and writes
 * results; the local gateway writes events and reads results. No node:* imports: only the
 * global Buffer, which every Lambda Node.js runtime has.
 */
import type { HttpRequest, HttpResponse } from '../../src/runtime/types.js';

/** The parts of a payload 2.0 event wfn reads and writes. */
export interface LambdaHttpEvent {
  version: string;
  routeKey?: string;
  rawPath?: string;
  rawQueryString?: string;
  cookies?: string[];
  /** Lower-case names; repeated headers comma-joined. */
  headers?: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    accountId?: string;
    apiId?: string;
    domainName?: string;
    domainPrefix?: string;
    http: { method: string; path?: string; protocol?: string; sourceIp?: string; userAgent?: string };
    requestId?: string;
    routeKey?: string;
    stage?: string;
    time?: string;
    timeEpoch?: number;
  };
  body?: string;
  isBase64Encoded?: boolean;
}

/** What the handler answers (Function URL / HTTP API "response format 2.0"). */
export interface LambdaHttpResult {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: string;
  isBase64Encoded: boolean;
}

export class UnsupportedEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedEventError';
  }
}

/** Lambda's limit on a synchronous invocation's request and response payloads (bytes of JSON). */
export const PAYLOAD_LIMIT = 6 * 1024 * 1024;

const EMPTY = new Uint8Array(0);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body as UTF-8 text, or undefined when it is not valid UTF-8. */
export function utf8OrUndefined(bytes: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript|ecmascript|x-www-form-urlencoded|graphql|x-ndjson)\b|[a-z]+\/[^;]*\+(json|xml)\b|image\/svg\+xml\b)/i;

/** Whether a body with this Content-Type travels as text (else base64). No type: decide by the bytes. */
export function isTextualContentType(contentType: string | undefined): boolean {
  return contentType === undefined || contentType.trim() === '' || TEXT_TYPES.test(contentType.trim());
}

/** A body as Lambda carries it: text when it is textual and valid UTF-8, base64 otherwise. */
export function encodeBody(body: Uint8Array, contentType: string | undefined): { body: string; isBase64Encoded: boolean } {
  const text = isTextualContentType(contentType) ? utf8OrUndefined(body) : undefined;
  if (text !== undefined) return { body: text, isBase64Encoded: false };
  return { body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64'), isBase64Encoded: true };
}

export function decodeBody(body: string | undefined | null, isBase64Encoded: boolean | undefined): Uint8Array {
  if (body === undefined || body === null || body === '') return EMPTY;
  const buf = isBase64Encoded ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function isHttpEvent(event: unknown): event is LambdaHttpEvent {
  const e = event as LambdaHttpEvent | null;
  return typeof e === 'object' && e !== null && typeof e.requestContext?.http?.method === 'string';
}

/**
 * A payload 2.0 event -> the runtime's request, plus the route: an HTTP API's named stage
 * ("/prod") is the route prefix, so the function sees the same PATH_INFO on every stage.
 */
export function requestFromEvent(event: unknown): { req: HttpRequest; route: string } {
  if (!isHttpEvent(event)) {
    const hint = typeof event === 'object' && event !== null && 'httpMethod' in event ? ' (this looks like payload format 1.0: set the API Gateway integration to payload format version 2.0)' : '';
    throw new UnsupportedEventError(`wfn: not an HTTP event${hint}; the handler takes Lambda Function URL and API Gateway HTTP API (payload 2.0) events`);
  }
  const ctx = event.requestContext;
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && value !== null) headers.push([name.toLowerCase(), String(value)]);
  }
  // Payload 2.0 moves the Cookie header into `cookies`; CGI wants it back as HTTP_COOKIE.
  if (event.cookies && event.cookies.length > 0 && !headers.some(([k]) => k === 'cookie')) headers.push(['cookie', event.cookies.join('; ')]);
  const header = (name: string) => headers.find(([k]) => k === name)?.[1];

  const proto = (header('x-forwarded-proto') ?? 'https').split(',')[0].trim();
  const port = header('x-forwarded-port')?.split(',')[0].trim();
  const domain = ctx.domainName ?? header('host') ?? 'localhost';
  const defaultPort = proto === 'https' ? '443' : '80';
  const authority = domain.includes(':') || !port || port === defaultPort ? domain : `${domain}:${port}`;
  let rawPath = event.rawPath ?? ctx.http.path ?? '/';
  if (!rawPath.startsWith('/')) rawPath = `/${rawPath}`;
  const query = event.rawQueryString ? `?${event.rawQueryString}` : '';

  const stage = ctx.stage;
  const route = stage && stage !== '$default' && (rawPath === `/${stage}` || rawPath.startsWith(`/${stage}/`)) ? `/${stage}` : '/';
  return {
    req: {
      method: ctx.http.method.toUpperCase(),
      url: `${proto}://${authority}${rawPath}${query}`,
      headers,
      body: decodeBody(event.body, event.isBase64Encoded),
      remoteAddr: ctx.http.sourceIp,
    },
    route,
  };
}

/** The runtime's response -> the handler's result: Set-Cookie via `cookies`, other repeats comma-joined. */
export function resultFromResponse(response: HttpResponse): LambdaHttpResult {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie') cookies.push(value);
    else headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { statusCode: response.status, headers, cookies, ...encodeBody(response.body, headers['content-type']) };
}

/** The size of the result as Lambda counts it (its JSON), to stay under PAYLOAD_LIMIT. */
export function resultSize(result: LambdaHttpResult): number {
  return Buffer.byteLength(JSON.stringify(result), 'utf8');
}

// ---- the gateway's side (local emulation of the Function URL front end) ----

export interface EventOptions {
  /** Host name the event reports (requestContext.domainName), without a port. */
  domainName: string;
  /** The port the client connected to (x-forwarded-port). */
  port: number;
  requestId: string;
  /** Unix ms of the request. */
  time: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "12/Mar/2020:19:03:58 +0000", as requestContext.time has it. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function decodeQueryPart(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** An HTTP request -> the event a Function URL would deliver for it. */
export function eventFromRequest(req: HttpRequest, options: EventOptions): LambdaHttpEvent {
  const url = new URL(req.url);
  const rawPath = url.pathname;
  const rawQueryString = url.search.startsWith('?') ? url.search.slice(1) : '';
  const grouped = new Map<string, string[]>();
  const cookies: string[] = [];
  for (const [name, value] of req.headers) {
    const lower = name.toLowerCase();
    if (lower === 'cookie') {
      for (const cookie of value.split(';')) if (cookie.trim() !== '') cookies.push(cookie.trim());
      continue;
    }
    grouped.set(lower, [...(grouped.get(lower) ?? []), value]);
  }
  const headers: Record<string, string> = {};
  for (const [name, values] of grouped) headers[name] = values.join(',');
  // What the Function URL front end adds.
  const sourceIp = req.remoteAddr ?? '127.0.0.1';
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp;
  headers['x-forwarded-proto'] = url.protocol.replace(/:$/, '');
  headers['x-forwarded-port'] = String(options.port);

  let queryStringParameters: Record<string, string> | undefined;
  if (rawQueryString !== '') {
    queryStringParameters = {};
    for (const pair of rawQueryString.split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const key = decodeQueryPart(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? '' : decodeQueryPart(pair.slice(eq + 1));
      queryStringParameters[key] = key in queryStringParameters ? `${queryStringParameters[key]},${value}` : value;
    }
  }

  const event: LambdaHttpEvent = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: 'anonymous',
      apiId: options.domainName.split('.')[0],
      domainName: options.domainName,
      domainPrefix: options.domainName.split('.')[0],
      http: { method: req.method.toUpperCase(), path: rawPath, protocol: 'HTTP/1.1', sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: options.requestId,
      routeKey: '$default',
      stage: '$default',
      time: clfTime(options.time),
      timeEpoch: options.time,
    },
    isBase64Encoded: false,
  };
  if (req.body.length > 0) Object.assign(event, encodeBody(req.body, headers['content-type']));
  return event;
}

/**
 * The handler's result -> the HTTP response, as the Function URL front end does it. A result
 * without `statusCode` is "inferred": 200, application/json, the value as the body.
 * Throws (-> a 502) when the result cannot be an HTTP response.
 */
export function responseFromResult(result: unknown): HttpResponse {
  const r = result as Partial<LambdaHttpResult> & { multiValueHeaders?: unknown } | null;
  if (typeof r !== 'object' || r === null || !('statusCode' in r)) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return { status: 200, headers: [['content-type', 'application/json']], body: new TextEncoder().encode(body) };
  }
  const status = Number(r.statusCode);
  if (!Number.isInteger(status) || status < 100 || status > 599) throw new Error(`invalid statusCode ${JSON.stringify(r.statusCode)}`);
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries(r.headers ?? {})) {
    if (value !== undefined && value !== null) headers.push([name.toLowerCase(), String(value)]);
  }
  for (const cookie of r.cookies ?? []) headers.push(['set-cookie', String(cookie)]);
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') throw new Error('body must be a string');
  return { status, headers, body: decodeBody(r.body, r.isBase64Encoded) };
}
