/**
 * The local side of a Workers KV namespace binding in `wfn dev --target cloudflare`: workerd's
 * KV binding (a `kvNamespace` binding to an external HTTP service, as Wrangler's local mode
 * binds one to Miniflare's) sends each get, put, delete and list as an HTTP request; this
 * loopback server answers them from one of wfn's stores (the SQLite file under .wfn/ by
 * default, so values survive a restart). One server per store: workerd's requests do not
 * name the namespace.
 *
 * The protocol, as workerd's KvNamespace (src/workerd/api/kv.c++) speaks it:
 *   GET    /<key>?urlencoded=true                  200 value, 404 absent
 *   PUT    /<key>?urlencoded=true[&expiration_ttl=N|&expiration=T]   body = value
 *   DELETE /<key>?urlencoded=true
 *   GET    /?prefix=P&cursor=C&key_count_limit=N   {"keys":[{"name"}],"list_complete","cursor"}
 * Limits as on Cloudflare: keys up to 512 bytes, values up to 25 MiB, expiration_ttl >= 60.
 * Everything is hostile: bad input is a 4xx with a message workerd shows the Worker.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CLOUDFLARE_MIN_TTL_SECONDS, KV_ERROR, MAX_LIST_LIMIT, MAX_VALUE_BYTES } from '../../src/runtime/kv/abi.js';
import { keyProblem } from '../../src/runtime/kv/messages.js';
import { KvStoreError, type KvStore } from '../../src/runtime/kv/store.js';
import { listen } from '../../src/http/listen.js';
import { BodyTooLargeError, createHttpServer, readBody } from '../../src/http/node-http.js';

export interface KvService {
  port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function keyOf(pathname: string): string {
  let key: string;
  try {
    key = decodeURIComponent(pathname.slice(1));
  } catch {
    throw new HttpError(400, 'the key is not percent-encoded UTF-8');
  }
  const bytes = new TextEncoder().encode(key);
  // Cloudflare answers 414 for a key over 512 bytes (workerd checks it first anyway).
  if (bytes.length > 512) throw new HttpError(414, `UTF-8 encoded length of ${bytes.length} exceeds key length limit of 512.`);
  const problem = keyProblem(bytes, utf8.decode(bytes));
  if (problem) throw new HttpError(400, problem);
  return key;
}

/** Seconds to live from the query (expiration_ttl, or an absolute expiration in seconds); 0: none. */
function ttlOf(query: URLSearchParams, nowMs: number): number {
  const ttl = query.get('expiration_ttl');
  const at = query.get('expiration');
  const seconds = ttl !== null ? Number(ttl) : at !== null ? Number(at) - Math.floor(nowMs / 1000) : 0;
  const given = ttl ?? at;
  if (given === null) return 0;
  if (!/^\d+$/.test(given) || !Number.isSafeInteger(seconds)) throw new HttpError(400, `Invalid ${ttl !== null ? 'expiration_ttl' : 'expiration'} of ${given.slice(0, 40)}.`);
  if (seconds < CLOUDFLARE_MIN_TTL_SECONDS) {
    throw new HttpError(400, `Invalid ${ttl !== null ? 'expiration_ttl' : 'expiration'} of ${given}. Expiration TTL must be at least ${CLOUDFLARE_MIN_TTL_SECONDS}.`);
  }
  return seconds;
}

async function answer(store: KvStore, req: IncomingMessage, res: ServerResponse, now: () => number): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://kv.local');
  const send = (status: number, body: Uint8Array | string, type = 'text/plain; charset=utf-8') => {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  if (url.pathname === '/') {
    if (req.method !== 'GET') throw new HttpError(405, 'a list is a GET');
    const limitText = url.searchParams.get('key_count_limit');
    const limit = limitText === null ? MAX_LIST_LIMIT : Number(limitText);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new HttpError(400, `Invalid key_count_limit of ${String(limitText).slice(0, 40)}: 1 to ${MAX_LIST_LIMIT}.`);
    const prefix = url.searchParams.get('prefix') ?? '';
    const cursor = url.searchParams.get('cursor') || undefined;
    const page = await store.list(prefix, cursor, limit);
    const body: Record<string, unknown> = { keys: page.keys.map((name) => ({ name })), list_complete: page.cursor === undefined };
    if (page.cursor !== undefined) body.cursor = page.cursor;
    return send(200, JSON.stringify(body), 'application/json');
  }
  const key = keyOf(url.pathname);
  switch (req.method) {
    case 'GET': {
      const value = await store.get(key);
      if (!value) return send(404, 'Not Found');
      return send(200, value, 'application/octet-stream');
    }
    case 'PUT': {
      const ttl = ttlOf(url.searchParams, now());
      let value: Uint8Array;
      try {
        value = await readBody(req, MAX_VALUE_BYTES);
      } catch (error) {
        if (error instanceof BodyTooLargeError) throw new HttpError(413, `Value length exceeds limit of ${MAX_VALUE_BYTES}.`);
        throw error;
      }
      await store.set(key, value, ttl);
      return send(200, '');
    }
    case 'DELETE':
      await store.delete(key);
      return send(200, '');
    default:
      throw new HttpError(405, `${String(req.method).slice(0, 20)} is not a KV operation`);
  }
}

/** Serves `store` on 127.0.0.1 (a port the kernel picks); `log` gets the store's own failures. */
export async function startKvService(store: KvStore, log: (line: string) => void, now: () => number = Date.now): Promise<KvService> {
  const server = createHttpServer((req, res) => {
    answer(store, req, res, now).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : error instanceof KvStoreError && error.code === KV_ERROR.INVALID ? 400 : 500;
      const message = error instanceof Error ? error.message : String(error);
      if (status >= 500) log(`cloudflare KV service: ${message}`);
      if (res.headersSent) return res.destroy();
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(message);
    });
  });
  const url = await listen(server, 0, '127.0.0.1');
  return {
    port: Number(new URL(url).port),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
