/**
 * The emulator's network thread: performs the requests a Fastly program sends to its
 * backends (node:http/https, raw bytes: no decompression, the Host header the backend's
 * host_override says), while the program's thread blocks on the SharedArrayBuffer signal
 * (backend-net.ts). One per emulator worker, started on the first request; it ends with
 * that worker. Response bodies are streamed back with flow control: at most HIGH_WATER bytes
 * travel unread, so a large body is never held in memory all at once.
 */
import http from 'node:http';
import https from 'node:https';
import { workerData, type MessagePort } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import { sendErrorTag, type BackendRequest, type NetMessage, type NetReply } from './backend-net.js';

const HIGH_WATER = 1024 * 1024;

const { port, signal } = workerData as { port: MessagePort; signal: SharedArrayBuffer };
const wake = new Int32Array(signal);
const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

interface Exchange {
  request?: http.ClientRequest;
  response?: NodeJS.ReadableStream;
  unread: number;
  paused: boolean;
  betweenBytesMs?: number;
  idle?: NodeJS.Timeout;
  done: boolean;
}
const exchanges = new Map<number, Exchange>();

function post(reply: NetReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(reply, transfer);
  Atomics.add(wake, 0, 1);
  Atomics.notify(wake, 0);
}

function fail(id: number, ex: Exchange, tag: number, message: string): void {
  if (ex.done) return;
  ex.done = true;
  clearTimeout(ex.idle);
  ex.request?.destroy();
  post({ id, type: 'error', tag, message });
}

/** The between-bytes timeout runs only while the program is reading (not while paused for it). */
function armIdle(id: number, ex: Exchange): void {
  clearTimeout(ex.idle);
  const ms = ex.betweenBytesMs;
  if (!ms || ex.paused || ex.done) return;
  ex.idle = setTimeout(() => fail(id, ex, 16, `no data for ${ms} ms`), ms);
}

function start(id: number, req: BackendRequest): void {
  const ex: Exchange = { unread: 0, paused: false, done: false, betweenBytesMs: req.betweenBytesTimeoutMs };
  exchanges.set(id, ex);
  const url = new URL(req.url);
  const secure = url.protocol === 'https:';
  const headers: [string, string][] = req.headers.filter(([k]) => !['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(k));
  headers.unshift(['host', req.hostOverride ?? url.host]);
  if (req.body.length > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(req.method)) headers.push(['content-length', String(req.body.length)]);
  const options: https.RequestOptions = {
    method: req.method,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port || (secure ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    headers: headers.flat(),
    agent: secure ? agents.https : agents.http,
    servername: secure ? req.servername : undefined,
  };
  const request = (secure ? https : http).request(options);
  ex.request = request;
  let connectTimer: NodeJS.Timeout | undefined;
  let headTimer: NodeJS.Timeout | undefined;
  request.on('socket', (socket) => {
    if (req.connectTimeoutMs && socket.connecting) {
      connectTimer = setTimeout(() => fail(id, ex, 9, `no connection within ${req.connectTimeoutMs} ms`), req.connectTimeoutMs);
      socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    }
  });
  request.on('finish', () => {
    if (req.firstByteTimeoutMs) headTimer = setTimeout(() => fail(id, ex, 16, `no response within ${req.firstByteTimeoutMs} ms`), req.firstByteTimeoutMs);
  });
  request.on('error', (error: NodeJS.ErrnoException) => {
    clearTimeout(connectTimer);
    clearTimeout(headTimer);
    fail(id, ex, sendErrorTag(error.code), error.message);
  });
  request.on('response', (res) => {
    clearTimeout(connectTimer);
    clearTimeout(headTimer);
    if (ex.done) return res.destroy();
    let out: [string, string][] = [];
    for (let i = 0; i < res.rawHeaders.length; i += 2) out.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
    const encoding = res.headers['content-encoding']?.trim().toLowerCase();
    let body: NodeJS.ReadableStream = res;
    if (req.decompressGzip && (encoding === 'gzip' || encoding === 'x-gzip')) {
      out = out.filter(([k]) => k !== 'content-encoding' && k !== 'content-length');
      const gunzip = createGunzip();
      gunzip.on('error', (error) => fail(id, ex, 19, `the gzip body cannot be decoded: ${error.message}`));
      body = res.pipe(gunzip);
    }
    ex.response = body;
    post({ id, type: 'head', status: res.statusCode ?? 502, headers: out });
    armIdle(id, ex);
    body.on('data', (chunk: Buffer) => {
      if (ex.done) return;
      // A copy the transfer can take (chunks may share Node's pooled buffers).
      const bytes = new Uint8Array(chunk);
      ex.unread += bytes.length;
      post({ id, type: 'data', chunk: bytes }, [bytes.buffer as ArrayBuffer]);
      if (ex.unread > HIGH_WATER) {
        ex.paused = true;
        body.pause();
      }
      armIdle(id, ex);
    });
    body.on('end', () => {
      if (ex.done) return;
      ex.done = true;
      clearTimeout(ex.idle);
      post({ id, type: 'end' });
    });
    res.on('error', (error: NodeJS.ErrnoException) => fail(id, ex, 8, error.message));
    res.on('aborted', () => fail(id, ex, 8, 'the connection closed before the body was complete'));
  });
  request.end(Buffer.from(req.body.buffer, req.body.byteOffset, req.body.length));
}

port.on('message', (msg: NetMessage) => {
  if (msg.type === 'start') return start(msg.id, msg.request);
  const ex = exchanges.get(msg.id);
  if (!ex) return;
  if (msg.type === 'read') {
    ex.unread -= msg.bytes;
    if (ex.paused && ex.unread <= HIGH_WATER / 2) {
      ex.paused = false;
      ex.response?.resume();
      armIdle(msg.id, ex);
    }
    if (ex.done && ex.unread <= 0) exchanges.delete(msg.id);
  } else if (msg.type === 'cancel') {
    ex.done = true;
    clearTimeout(ex.idle);
    ex.request?.destroy();
    exchanges.delete(msg.id);
  }
});
