/**
 * Outbound HTTP on Node hosts: the guest's thread blocks while another thread does the call.
 * The guest side (`blockingPerform`) posts the request on a MessagePort and waits on
 * `Atomics.wait` over a shared cell; the network side (`serveOutbound`, on the main thread of
 * dev/run/serve or a helper thread of the Lambda handler) runs `performFetch`, posts the result
 * back, stores the call's sequence number in the cell and notifies. The guest then takes the
 * message with `receiveMessageOnPort`: no busy-waiting, no event loop needed on the guest side.
 */
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { OUTBOUND_ERROR, type OutboundRequest, type OutboundResult, type OutboundSettings } from '../outbound/abi.js';
import { callTimeout, performFetch } from '../outbound/fetch.js';
import { originOf, policyFor } from '../outbound/policy.js';

/** The guest thread's end: a port and the shared cell (Int32Array over 4 bytes of a SharedArrayBuffer). */
export interface OutboundLink {
  port: MessagePort;
  cell: SharedArrayBuffer;
}

interface CallMessage {
  seq: number;
  request: OutboundRequest;
  settings: OutboundSettings;
}

interface ReplyMessage {
  seq: number;
  result: OutboundResult;
}

/** Past the call's own timeout, the guest stops waiting for a network side that never answers. */
const WAIT_MARGIN_MS = 5000;

/** A body the port can transfer: its own ArrayBuffer, whole. */
function ownBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && !(bytes.buffer instanceof SharedArrayBuffer) ? bytes : bytes.slice();
}

/** The guest side: a synchronous `perform` for OutboundHost over the link. */
export function blockingPerform(link: OutboundLink): (request: OutboundRequest, settings: OutboundSettings) => OutboundResult {
  const cell = new Int32Array(link.cell);
  let seq = Atomics.load(cell, 0);
  return (request, settings) => {
    seq = (seq + 1) | 0;
    const body = ownBuffer(request.body);
    link.port.postMessage({ seq, request: { ...request, body }, settings } satisfies CallMessage, [body.buffer as ArrayBuffer]);
    const timeoutMs = callTimeout(request, settings);
    const deadline = performance.now() + timeoutMs + WAIT_MARGIN_MS;
    for (;;) {
      const current = Atomics.load(cell, 0);
      if (current === seq) break;
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(cell, 0, current, left) === 'timed-out') {
        return { error: { code: OUTBOUND_ERROR.TIMEOUT, message: `outbound request to ${originOf(new URL(request.url))} timed out: no answer from the host within ${timeoutMs + WAIT_MARGIN_MS} ms` } };
      }
    }
    // Replies to calls given up on earlier are skipped.
    for (;;) {
      const message = receiveMessageOnPort(link.port)?.message as ReplyMessage | undefined;
      if (!message) return { error: { code: OUTBOUND_ERROR.FAILED, message: 'outbound request failed: the host lost the answer' } };
      if (message.seq === seq) return message.result;
    }
  };
}

export interface OutboundServer {
  /** Aborts every call in flight on this link and stops listening. */
  close(): void;
}

/** The network side of one link: performs each call the guest posts. */
export function serveOutbound(port: MessagePort, cellBuffer: SharedArrayBuffer, fetchImpl?: typeof fetch): OutboundServer {
  const cell = new Int32Array(cellBuffer);
  const inflight = new Set<AbortController>();
  let closed = false;
  port.on('message', async ({ seq, request, settings }: CallMessage) => {
    const abort = new AbortController();
    inflight.add(abort);
    let result: OutboundResult;
    try {
      result = await performFetch(request, { policy: policyFor(settings.allow), settings, signal: abort.signal, fetch: fetchImpl });
    } catch (error) {
      result = { error: { code: OUTBOUND_ERROR.FAILED, message: `outbound request failed: ${error instanceof Error ? error.message : String(error)}` } };
    } finally {
      inflight.delete(abort);
    }
    if (closed) return;
    const transfer = 'response' in result ? [(result.response.body = ownBuffer(result.response.body)).buffer as ArrayBuffer] : [];
    port.postMessage({ seq, result } satisfies ReplyMessage, transfer);
    Atomics.store(cell, 0, seq);
    Atomics.notify(cell, 0);
  });
  const close = () => {
    if (closed) return;
    closed = true;
    for (const abort of inflight) abort.abort();
    port.close();
  };
  port.on('close', close);
  return { close };
}

/** A new link: the guest's end (to transfer to its thread) and the network side, served here. */
export function openOutboundLink(fetchImpl?: typeof fetch): { guest: OutboundLink; server: OutboundServer } {
  const channel = new MessageChannel();
  const cell = new SharedArrayBuffer(4);
  const server = serveOutbound(channel.port1, cell, fetchImpl);
  channel.port1.unref();
  return { guest: { port: channel.port2, cell }, server };
}
