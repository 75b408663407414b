/**
 * A loopback upstream for the outbound HTTP tests (127.0.0.1, never the internet). Paths:
 *   /echo...        200: JSON of method, url, headers and the body's length and sha256
 *   /bytes?n=N      N pseudo-random bytes (application/octet-stream), the same for the same N
 *   /chunked?n=N    the same bytes without a content-length (chunked, 64 KiB writes)
 *   /gzip?n=N       the same bytes gzip-encoded (content-encoding: gzip)
 *   /status/N       status N, text body
 *   /headers        repeated response headers (set-cookie twice, x-multi twice)
 *   /redirect/N?to=URL  status N with Location: URL (default /echo)
 *   /chain/K        K redirects in a row, then /echo
 *   /hang           never answers (the request stays open until the test ends)
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface Upstream {
  url: string;
  origin: string;
  port: number;
  /** Requests that reached /hang and are still open. */
  hanging(): number;
  close(): Promise<void>;
}

/** Deterministic bytes (every value 0-255 occurs): what /bytes answers. */
export function testBytes(n: number): Buffer {
  const out = Buffer.alloc(n);
  let x = 2463534242;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function startUpstream(): Promise<Upstream> {
  const open = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://upstream');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const parts = url.pathname.split('/').filter(Boolean);
      if (parts[0] === 'hang') {
        open.add(res);
        res.on('close', () => open.delete(res));
        return;
      }
      if (parts[0] === 'bytes') {
        const data = testBytes(Number(url.searchParams.get('n') ?? 0));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
        res.end(data);
        return;
      }
      if (parts[0] === 'chunked') {
        const data = testBytes(Number(url.searchParams.get('n') ?? 0));
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let at = 0; at < data.length; at += 65536) res.write(data.subarray(at, at + 65536));
        res.end();
        return;
      }
      if (parts[0] === 'gzip') {
        const data = gzipSync(testBytes(Number(url.searchParams.get('n') ?? 0)));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip', 'content-length': data.length });
        res.end(data);
        return;
      }
      if (parts[0] === 'status') {
        res.writeHead(Number(parts[1]), { 'content-type': 'text/plain' });
        res.end(`status ${parts[1]}`);
        return;
      }
      if (parts[0] === 'headers') {
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.setHeader('x-multi', ['one', 'two']);
        res.setHeader('content-type', 'text/plain');
        res.end('headers');
        return;
      }
      if (parts[0] === 'redirect') {
        res.writeHead(Number(parts[1]), { location: url.searchParams.get('to') ?? '/echo' });
        res.end();
        return;
      }
      if (parts[0] === 'chain') {
        const left = Number(parts[1]);
        res.writeHead(302, { location: left > 1 ? `/chain/${left - 1}` : '/echo' });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, length: body.length, sha256: sha256(body), body: body.length <= 1024 ? body.toString('latin1') : undefined }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/`,
    origin,
    port,
    hanging: () => open.size,
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
