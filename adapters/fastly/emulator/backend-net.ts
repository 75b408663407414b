/**
 * Backend requests for the emulated hostcalls, seen from the program's thread: the requests
 * run on a network thread (backend-thread.ts) while this thread blocks on Atomics.wait over a
 * SharedArrayBuffer the network thread notifies after each message (no busy-waiting); the
 * messages are taken with receiveMessageOnPort, as the program's thread has no event loop
 * turn to spare. Fastly's hostcalls block the same way (pending_req_wait, body read).
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/** What send_async hands the network: the request, aimed at the backend. */
export interface BackendRequest {
  method: string;
  /** scheme://target/path?query (the backend's address, the request's path). */
  url: string;
  headers: [string, string][];
  body: Uint8Array;
  hostOverride?: string;
  servername?: string;
  connectTimeoutMs?: number;
  firstByteTimeoutMs?: number;
  betweenBytesTimeoutMs?: number;
  /** Decode a gzip response (Fastly's auto_decompress_response_set), dropping its content-encoding and content-length. */
  decompressGzip?: boolean;
}

export type NetMessage =
  | { type: 'start'; id: number; request: BackendRequest }
  | { type: 'read'; id: number; bytes: number }
  | { type: 'cancel'; id: number };

export type NetReply =
  | { id: number; type: 'head'; status: number; headers: [string, string][] }
  | { id: number; type: 'data'; chunk: Uint8Array }
  | { id: number; type: 'end' }
  | { id: number; type: 'error'; tag: number; message: string };

/** A Node error code as the $send_error_detail_tag Fastly would report (typenames.witx). */
export function sendErrorTag(code: string | undefined): number {
  if (!code) return 22; // internal_error
  if (code === 'ECONNREFUSED') return 7;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL' || code === 'EAI_NONAME') return 3;
  if (code === 'ECONNRESET' || code === 'EPIPE') return 8;
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL') return 6;
  if (code === 'ETIMEDOUT') return 9;
  if (code.startsWith('CERT_') || code.includes('CERT') || code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE') return 11;
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code === 'EPROTO') return 24;
  if (code.startsWith('HPE_')) return 19;
  return 22;
}

export interface Exchange {
  head?: { status: number; headers: [string, string][] };
  chunks: Uint8Array[];
  ended: boolean;
  error?: { tag: number; message: string };
}

export class BackendNet {
  private worker: Worker | undefined;
  private port: MessagePort | undefined;
  private signal: Int32Array | undefined;
  private readonly exchanges = new Map<number, Exchange>();
  private nextId = 1;

  /** `script`: the network thread's script (backend-thread.js, or its bundle). */
  constructor(private readonly script: string) {}

  private connect(): MessagePort {
    if (this.port) return this.port;
    const { port1, port2 } = new MessageChannel();
    const shared = new SharedArrayBuffer(4);
    this.worker = new Worker(this.script, { workerData: { port: port2, signal: shared }, transferList: [port2] });
    this.worker.unref();
    this.signal = new Int32Array(shared);
    this.port = port1;
    return port1;
  }

  start(request: BackendRequest): number {
    const port = this.connect();
    const id = this.nextId++;
    this.exchanges.set(id, { chunks: [], ended: false });
    port.postMessage({ type: 'start', id, request } satisfies NetMessage);
    return id;
  }

  exchange(id: number): Exchange | undefined {
    return this.exchanges.get(id);
  }

  private drain(): void {
    if (!this.port) return;
    for (let got = receiveMessageOnPort(this.port); got; got = receiveMessageOnPort(this.port)) {
      const reply = got.message as NetReply;
      const ex = this.exchanges.get(reply.id);
      if (!ex) continue;
      if (reply.type === 'head') ex.head = { status: reply.status, headers: reply.headers };
      else if (reply.type === 'data') ex.chunks.push(reply.chunk);
      else if (reply.type === 'end') ex.ended = true;
      else ex.error = { tag: reply.tag, message: reply.message };
    }
  }

  /** Blocks until `done()` or the timeout (ms; undefined = none). False on timeout. */
  private wait(done: () => boolean, timeoutMs?: number): boolean {
    const deadline = timeoutMs === undefined ? undefined : performance.now() + timeoutMs;
    for (;;) {
      const seen = this.signal ? Atomics.load(this.signal, 0) : 0;
      this.drain();
      if (done()) return true;
      if (!this.signal) return false;
      const left = deadline === undefined ? undefined : deadline - performance.now();
      if (left !== undefined && left <= 0) return false;
      Atomics.wait(this.signal, 0, seen, left);
    }
  }

  /** Has the response head (or a failure) arrived? */
  headReady(id: number): boolean {
    this.drain();
    const ex = this.exchanges.get(id);
    return !ex || !!ex.head || !!ex.error;
  }

  /** Is there body data (or the end, or a failure) to read? */
  bodyReady(id: number): boolean {
    this.drain();
    const ex = this.exchanges.get(id);
    return !ex || ex.chunks.length > 0 || ex.ended || !!ex.error;
  }

  /** Blocks until one of `ready` is true; its index, or -1 on timeout (ms; undefined = none). */
  waitAny(ready: (() => boolean)[], timeoutMs?: number): number {
    let index = -1;
    this.wait(() => (index = ready.findIndex((r) => r())) >= 0, timeoutMs);
    return index;
  }

  /** Blocks until the head or a failure. */
  waitHead(id: number): Exchange | undefined {
    this.wait(() => this.headReady(id));
    return this.exchanges.get(id);
  }

  /** Up to `max` body bytes, blocking until there are some; empty at the end. */
  read(id: number, max: number): Uint8Array | { error: string } {
    this.wait(() => this.bodyReady(id));
    const ex = this.exchanges.get(id);
    if (!ex) return new Uint8Array(0);
    if (ex.chunks.length === 0) {
      if (ex.error) return { error: ex.error.message };
      return new Uint8Array(0);
    }
    const first = ex.chunks[0];
    const out = first.length <= max ? first : first.subarray(0, max);
    if (first.length <= max) ex.chunks.shift();
    else ex.chunks[0] = first.subarray(max);
    this.port!.postMessage({ type: 'read', id, bytes: out.length } satisfies NetMessage);
    return out;
  }

  cancel(id: number): void {
    if (!this.exchanges.delete(id)) return;
    this.port?.postMessage({ type: 'cancel', id } satisfies NetMessage);
  }

  async close(): Promise<void> {
    this.port?.close();
    await this.worker?.terminate();
  }
}
