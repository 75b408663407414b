/**
 * node:http <-> the runtime's HttpRequest/HttpResponse, shared by `wfn dev`, `wfn serve` and
 * emulators. The request URL is built from the request line; the Host header is validated and
 * only ever names the server, so no header can change routing or the CGI path variables.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { isIPv6 } from 'node:net';
import type { HttpRequest, HttpResponse } from '../runtime/types.js';

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

export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new BodyTooLargeError(`request body over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? new Uint8Array(chunks[0].buffer, chunks[0].byteOffset, chunks[0].length) : new Uint8Array(Buffer.concat(chunks));
}

/** The request as the runtime sees it; the body is read up to `maxBodyBytes`. Throws BadRequestError for a malformed target or Host. */
export async function toHttpRequest(req: IncomingMessage, maxBodyBytes: number, url: URL = requestUrl(req)): Promise<HttpRequest> {
  const headers: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]]);
  return {
    method: req.method ?? 'GET',
    url: url.href,
    headers,
    body: await readBody(req, maxBodyBytes),
    remoteAddr: req.socket.remoteAddress?.replace(/^::ffff:/, ''),
  };
}

/** Writes the response; repeated headers (two Set-Cookie) stay separate lines. */
export function sendHttpResponse(res: ServerResponse, response: HttpResponse, extraHeaders: [string, string][] = []): void {
  const raw: string[] = [];
  for (const [k, v] of [...response.headers, ...extraHeaders]) raw.push(k, v);
  raw.push('content-length', String(response.body.length));
  res.writeHead(response.status, raw);
  res.end(response.body);
}
