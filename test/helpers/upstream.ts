/**
 * A loopback upstream for the outbound HTTP tests (127.0.0.1, a port the kernel picks):
 *   /echo...            JSON of the method, path, raw header lines and body (base64) it got
 *   /bytes?n=N&seed=S   N deterministic binary bytes (all 256 values occur), content-length set
 *   /chunked?n=N        the same bytes without a content-length
 *   /gzip?n=N           the same bytes gzip-encoded (content-encoding: gzip)
 *   /cookies            two set-cookie headers and two x-repeat headers
 *   /redirect?to=URL&status=S   a redirect (302 by default) to URL
 *   /hang               never answers (the request is counted in `hanging`)
 * Everything it received is in `seen`.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

export interface SeenRequest {
  method: string;
  path: string;
  rawHeaders: string[];
  body: Buffer;
}

export interface Upstream {
  url: string;
  port: number;
  seen: SeenRequest[];
  /** Requests to /hang still open. */
  readonly hanging: number;
  close(): Promise<void>;
}

/** The bytes /bytes serves: a fixed pseudo-random sequence, every byte value included. */
export function upstreamBytes(n: number, seed = 1): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = i < 256 ? i : x & 0xff;
  }
  return out;
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

export async function startUpstream(): Promise<Upstream> {
  const seen: SeenRequest[] = [];
  const open = new Set<http.ServerResponse>();
  let hanging = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://upstream');
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', path: req.url ?? '', rawHeaders: req.rawHeaders, body });
      const n = Math.min(Number(url.searchParams.get('n') ?? 0), 64 * 1024 * 1024);
      const seed = Number(url.searchParams.get('seed') ?? 1);
      if (url.pathname.startsWith('/echo')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, path: req.url, headers: req.rawHeaders, body: body.toString('base64') }));
      } else if (url.pathname === '/bytes') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
        res.end(upstreamBytes(n, seed));
      } else if (url.pathname === '/chunked') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const bytes = upstreamBytes(n, seed);
        for (let at = 0; at < bytes.length; at += 65536) res.write(bytes.subarray(at, at + 65536));
        res.end();
      } else if (url.pathname === '/gzip') {
        const encoded = gzipSync(upstreamBytes(n, seed));
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip', 'content-length': String(encoded.length) });
        res.end(encoded);
      } else if (url.pathname === '/cookies') {
        res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/']);
        res.setHeader('x-repeat', ['one', 'two']);
        res.writeHead(201, { 'content-type': 'text/plain' });
        res.end('cookies');
      } else if (url.pathname === '/redirect') {
        res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: url.searchParams.get('to') ?? '/echo' });
        res.end();
      } else if (url.pathname === '/hang') {
        hanging++;
        open.add(res);
        res.on('close', () => {
          hanging--;
          open.delete(res);
        });
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('no such upstream route');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    get hanging() {
      return hanging;
    },
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
