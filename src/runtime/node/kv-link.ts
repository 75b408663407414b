/**
 * Key-value calls on Node hosts whose store is behind the network (S3 for `wfn serve --store
 * s3`, DynamoDB in the Lambda handler): the guest's thread blocks while another thread calls the
 * store, exactly as outbound HTTP does (outbound.ts). The guest side (`blockingKv`) posts the
 * request on a MessagePort and waits on `Atomics.wait` over a shared cell; the store side
 * (`serveKv`, on the main thread of serve or the Lambda handler's helper thread) runs the store
 * call, posts the result, stores the call's sequence number in the cell and notifies. The guest
 * takes the message with `receiveMessageOnPort`. `scope` says whose stores (the function's name).
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { KV_ERROR, type KvRequest, type KvResult } from '../kv/abi.js';

/** The guest thread's end: a port and the shared cell (Int32Array over 4 bytes of a SharedArrayBuffer). */
export interface KvLink {
  port: MessagePort;
  cell: SharedArrayBuffer;
}

interface CallMessage {
  seq: number;
  scope: string;
  request: KvRequest;
}

interface ReplyMessage {
  seq: number;
  result: KvResult;
}

/** The guest stops waiting for a store side that never answers (the function's own timeout usually comes first). */
const WAIT_MS = 60_000;

function ownBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer) ? bytes : bytes.slice();
}

/** The guest side: a synchronous `perform` for KvHost over the link. */
/** One per link (one guest thread): `scope` is given per call. */
export function blockingKv(link: KvLink): (scope: string, request: KvRequest) => KvResult {
  const cell = new Int32Array(link.cell);
  let seq = Atomics.load(cell, 0);
  return (scope, request) => {
    seq = (seq + 1) | 0;
    let transfer: ArrayBuffer[] = [];
    if (request.op === 'set') {
      const value = ownBuffer(request.value);
      request = { ...request, value };
      transfer = [value.buffer as ArrayBuffer];
    }
    link.port.postMessage({ seq, scope, request } satisfies CallMessage, transfer);
    const deadline = performance.now() + WAIT_MS;
    for (;;) {
      const current = Atomics.load(cell, 0);
      if (current === seq) break;
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(cell, 0, current, left) === 'timed-out') {
        return { error: { code: KV_ERROR.UNAVAILABLE, message: `kv store "${request.store}" unavailable: no answer from the host within ${WAIT_MS} ms` } };
      }
    }
    for (;;) {
      const message = receiveMessageOnPort(link.port)?.message as ReplyMessage | undefined;
      if (!message) return { error: { code: KV_ERROR.FAILED, message: `kv store "${request.store}" failed: the host lost the answer` } };
      if (message.seq === seq) return message.result;
    }
  };
}

export interface KvServer {
  close(): void;
}

/**
 * The store side of one link: performs each call the guest posts, one at a time in arrival order
 * (a guest waits for each answer, so there is never more than one in flight per link).
 */
export function serveKv(port: MessagePort, cellBuffer: SharedArrayBuffer, perform: (scope: string, request: KvRequest) => KvResult | Promise<KvResult>): KvServer {
  const cell = new Int32Array(cellBuffer);
  let closed = false;
  port.on('message', async ({ seq, scope, request }: CallMessage) => {
    let result: KvResult;
    try {
      result = await perform(scope, request);
    } catch (error) {
      result = { error: { code: KV_ERROR.FAILED, message: `kv store "${request.store}" failed: ${error instanceof Error ? error.message : String(error)}` } };
    }
    if (closed) return;
    const transfer = 'value' in result && result.value ? [(result.value = ownBuffer(result.value)).buffer as ArrayBuffer] : [];
    port.postMessage({ seq, result } satisfies ReplyMessage, transfer);
    Atomics.store(cell, 0, seq);
    Atomics.notify(cell, 0);
  });
  const close = () => {
    if (closed) return;
    closed = true;
    port.close();
  };
  port.on('close', close);
  return { close };
}

/** A new link: the guest's end (to transfer to its thread) and the store side, served here. */
export function openKvLink(perform: (scope: string, request: KvRequest) => KvResult | Promise<KvResult>): { guest: KvLink; server: KvServer } {
  const channel = new MessageChannel();
  const cell = new SharedArrayBuffer(4);
  const server = serveKv(channel.port1, cell, perform);
  channel.port1.unref();
  return { guest: { port: channel.port2, cell }, server };
}
