/**
 * node:http <-> the runtime's HttpRequest/HttpResponse, shared by `wfn dev`, `wfn serve` and
 * emulators. The request URL is built from the request line; the Host header is validated and
 * only ever names the server, so no header can change routing or the CGI path variables.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { isIPv6 } from 'node:net';
import type { HttpRequest, HttpResponse } from '../runtime/types.js';
import type { BodyLease } from './body-budget.js';

export class BodyTooLargeError extends Error {}

/** The request is malformed (the client's fault): answer 400; the message is for the log. */
export class BadRequestError extends Error {}

/**
 * A node:http server with the settings every wfn server shares: no cap on the number of request
 * headers (node's default silently drops those past ~1,000), so a request either reaches the
 * function with all its headers or is refused whole with 431 at the header-size limit.
 */
export function createHttpServer(listener: RequestListener): Server {
  const server = createServer(listener);
  server.maxHeadersCount = 0;
  server.keepAliveTimeout = 5000;
  return server;
}

/** host [":" port]: a name or IPv4 address, or an IPv6 literal in brackets; nothing else (no path, query, fragment or userinfo). */
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::(\d{0,5}))?$/;

/** The authority `host[:port]` checked and normalized (lower case), or a BadRequestError. */
function checkAuthority(authority: string, what: string): string {
  const match = HOST.exec(authority);
  const port = match?.[2] ? Number(match[2]) : undefined;
  if (!match || (port !== undefined && (port < 1 || port > 65535))) {
    throw new BadRequestError(`malformed ${what} ${JSON.stringify(authority.slice(0, 200))} (expected host[:port], port 1-65535)`);
  }
  try {
    return new URL(`http://${authority}`).host;
  } catch {
    throw new BadRequestError(`malformed ${what} ${JSON.stringify(authority.slice(0, 200))}`);
  }
}

/** The Host header, validated; absent or empty (HTTP/1.0), the address the request came in on. */
function hostOf(req: IncomingMessage): string {
  let host: string | undefined;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() !== 'host') continue;
    if (host !== undefined) throw new BadRequestError('more than one Host header');
    host = req.rawHeaders[i + 1];
  }
  if (host) return checkAuthority(host, 'Host header');
  const address = req.socket.localAddress ?? '127.0.0.1';
  return `${isIPv6(address) ? `[${address}]` : address}:${req.socket.localPort ?? 80}`;
}

/**
 * The request's URL from the request line: origin-form (`/path?query`) with the validated Host,
 * or absolute-form (`http://authority/path?query`, RFC 9112 3.2.2: its authority replaces Host).
 * Throws BadRequestError for anything else (a fragment, another scheme, a bad authority).
 */
export function requestUrl(req: IncomingMessage): URL {
  const target = req.url ?? '/';
  let host: string;
  let pathAndQuery: string;
  if (target.startsWith('/')) {
    host = hostOf(req);
    pathAndQuery = target;
  } else if (/^https?:\/\//i.test(target)) {
    const start = target.indexOf('//') + 2;
    const end = target.slice(start).search(/[/?#]/);
    const authority = end < 0 ? target.slice(start) : target.slice(start, start + end);
    host = checkAuthority(authority, 'authority in the request line');
    const rest = end < 0 ? '' : target.slice(start + end);
    pathAndQuery = rest.startsWith('/') ? rest : `/${rest}`;
  } else {
    throw new BadRequestError(`the request target ${JSON.stringify(target.slice(0, 200))} is neither a path nor an http URL`);
  }
  if (pathAndQuery.includes('#')) throw new BadRequestError('a fragment (#) in the request target');
  // The authority is fixed before the path is appended: a path like "//evil/x" stays a path.
  return new URL(`http://${host}${pathAndQuery}`);
}

/** The client went away before its request body was complete: nothing to answer, one log line. */
export class ClientAbortError extends Error {
  constructor() {
    super('client closed the connection before the request body was complete');
  }
}

/**
 * Reads the whole body into one buffer of its own (safe to transfer to a worker thread).
 * Refuses before reading when the declared Content-Length is over `maxBytes` (BodyTooLargeError)
 * or does not fit the lease's budget now (BodyBudgetError); takes from the lease as bytes arrive
 * and stops reading (the request is paused, not buffered further) the moment a bound is crossed.
 * The caller answers the refusal with `Connection: close` and releases the lease.
 */
export function readBody(req: IncomingMessage, maxBytes: number, lease?: BodyLease): Promise<Uint8Array> {
  const header = req.headers['content-length'];
  const declared = header === undefined ? undefined : Number(header); // digits only: node validated it
  return new Promise((resolve, reject) => {
    const tooLarge = () => new BodyTooLargeError(`request body over ${maxBytes} bytes`);
    if (declared !== undefined && declared > maxBytes) return reject(tooLarge());
    try {
      if (declared) lease?.check(declared);
    } catch (error) {
      return reject(error);
    }
    // A declared length is allocated at once: its pages become resident only as bytes arrive.
    const whole = declared !== undefined ? new Uint8Array(declared) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (error?: Error) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onClose);
      if (!error) return resolve(whole ?? concatChunks(chunks, size));
      req.pause(); // nothing more is read from this connection
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > maxBytes) return finish(tooLarge());
      try {
        lease?.take(chunk.length);
      } catch (error) {
        return finish(error as Error);
      }
      if (whole) whole.set(chunk, size);
      else chunks.push(chunk);
      size += chunk.length;
    };
    const onEnd = () => finish();
    const onAbort = () => finish(new ClientAbortError());
    const onClose = () => {
      if (!req.complete) finish(new ClientAbortError());
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onClose);
  });
}

function concatChunks(chunks: Buffer[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** The request as the runtime sees it; the body is read up to `maxBodyBytes` (see readBody). Throws BadRequestError for a malformed target or Host. */
export async function toHttpRequest(req: IncomingMessage, maxBodyBytes: number, url: URL = requestUrl(req), lease?: BodyLease): Promise<HttpRequest> {
  const headers: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]]);
  const remoteAddr = req.socket.remoteAddress?.replace(/^::ffff:/, '');
  return { method: req.method ?? 'GET', url: url.href, headers, body: await readBody(req, maxBodyBytes, lease), remoteAddr };
}

/**
 * Writes the response; repeated headers (two Set-Cookie) stay separate lines. Content-Length is
 * the body's, or for a HEAD the length the function declared (`headLength`: what a GET sends).
 */
export function sendHttpResponse(res: ServerResponse, response: HttpResponse, extraHeaders: [string, string][] = []): void {
  const raw: string[] = [];
  for (const [k, v] of [...response.headers, ...extraHeaders]) raw.push(k, v);
  raw.push('content-length', String(response.headLength ?? response.body.length));
  res.writeHead(response.status, raw);
  res.end(response.body);
}
