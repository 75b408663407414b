/** node:http <-> the runtime's HttpRequest/HttpResponse, shared by `wfn dev`, `wfn serve` and emulators. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HttpRequest, HttpResponse } from '../runtime/types.js';

export class BodyTooLargeError extends Error {}

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

/** The request as the runtime sees it; the body is read up to `maxBodyBytes`. */
export async function toHttpRequest(req: IncomingMessage, maxBodyBytes: number): Promise<HttpRequest> {
  const host = req.headers.host ?? `${req.socket.localAddress}:${req.socket.localPort}`;
  const headers: [string, string][] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i].toLowerCase(), req.rawHeaders[i + 1]]);
  return {
    method: req.method ?? 'GET',
    url: `http://${host}${req.url ?? '/'}`,
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
