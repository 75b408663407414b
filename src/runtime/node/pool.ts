/**
 * A pool of worker threads that run invocations. Functions run off the main thread because
 * V8 cannot interrupt running wasm on its own thread: a worker that overruns its timeout is
 * terminated and replaced, and the request gets a 504 while the server keeps answering.
 */
import { availableParallelism } from 'node:os';
import { errorResponse } from '../cgi.js';
import type { FunctionContext, HttpRequest, InvokeResult, Outcome } from '../types.js';
import type { PooledMemoryLimits } from '../invoke.js';
import { usesKv, usesOutbound } from '../contract.js';
import { KV_ERROR, type KvRequest, type KvResult, type KvSettings } from '../kv/abi.js';
import { openKvLink, type KvLink } from './kv-link.js';
import { DEFAULT_OUTBOUND, type OutboundSettings } from '../outbound/abi.js';
import { openOutboundLink, type OutboundLink } from './outbound.js';
import { TimedWorkerPool, type RunCap } from './timed-pool.js';
import { siblingFile } from '../../util/paths.js';

/** A compiled function ready to run, with its limits. */
export interface LoadedFunction {
  /** Identifies the compiled module (content hash + memory cap). */
  key: string;
  module: WebAssembly.Module;
  fn: FunctionContext;
  timeoutMs: number;
  memoryCapBytes: number;
  /** Present when the module imports its memory (recycled per worker). */
  pooledMemory?: PooledMemoryLimits;
  /** `[outbound]`: who the function may call and the call limits (deny all when absent). */
  outbound?: OutboundSettings;
  /** `[kv]`: the stores the function may open and where they are kept (no stores when absent). */
  kv?: KvHosting;
}

/** A function's key-value stores on a Node host. */
export interface KvHosting {
  settings: KvSettings;
  /**
   * sqlite: one SQLite file per store in `dir`, opened by each worker thread itself; `durable`:
   * fsync every write (wfn serve), else a crash of the machine may lose the last writes (wfn dev).
   * remote: the pool's `kvRemote` answers for `scope` on the main thread (S3 for `wfn serve --store s3`).
   */
  backend: { kind: 'sqlite'; dir: string; durable?: boolean } | { kind: 'remote'; scope: string };
}

export interface WorkerPoolOptions {
  /** The stores of functions whose backend is remote: called on the main thread, the worker blocks meanwhile. */
  kvRemote?(scope: string, request: KvRequest): Promise<KvResult>;
}

/** What each pool worker gets at start: its ends of the outbound and key-value links (the main thread does those calls). */
export interface PoolWorkerData {
  outbound: OutboundLink;
  kv: KvLink;
}

export type PoolRequest =
  | {
      type: 'invoke';
      id: number;
      key: string;
      module?: WebAssembly.Module;
      req: HttpRequest;
      fn: FunctionContext;
      memoryCapBytes: number;
      pooledMemory?: PooledMemoryLimits;
      /** Set (to 1) when the task was cancelled while it waited behind another on this worker. */
      cancelled?: Int32Array;
      /** `[outbound]`, for a function that imports wfn_http_v1. */
      outbound?: OutboundSettings;
      /** `[kv]` and where the stores are, for a function that imports wfn_kv_v1. */
      kv?: KvHosting;
    }
  | { type: 'forget'; key: string };

export interface PoolReply {
  id: number;
  result?: InvokeResult;
  error?: string;
  /** µs from the message's arrival in the worker to its reply. */
  busyUs?: number;
}

/** The compiled worker script; under vitest (running .ts sources) the built copy in lib/. */
const workerScript = () => siblingFile(import.meta.url, 'pool-worker', 'run');

function failure(status: number, outcome: Outcome, reason: string, runUs = 0): InvokeResult {
  return { response: errorResponse(status), stderr: new Uint8Array(0), outcome, reason, timings: { instantiateUs: 0, runUs } };
}

/** A body the worker may take over (transfer, not copy): a whole ArrayBuffer of its own. */
function transferable(body: Uint8Array): ArrayBuffer[] {
  const buffer = body.buffer;
  return buffer instanceof ArrayBuffer && body.byteOffset === 0 && body.byteLength === buffer.byteLength && buffer.byteLength > 0 ? [buffer] : [];
}

/**
 * The function pool of dev, run and serve: one invocation per worker at a time, under the
 * function's timeout, with fair shares per function (timed-pool.ts). A request's body is moved
 * to the worker that runs it, not copied, when it cannot come back to the queue.
 */
export class WorkerPool {
  private readonly pool: TimedWorkerPool<{ fn: LoadedFunction; req: HttpRequest }, InvokeResult>;

  constructor(readonly size = Math.max(1, availableParallelism()), options: WorkerPoolOptions = {}) {
    const kvRemote = options.kvRemote ?? (async (_scope: string, request: KvRequest): Promise<KvResult> => ({ error: { code: KV_ERROR.UNAVAILABLE, message: `kv store "${request.store}" unavailable: this host has no shared store` } }));
    this.pool = new TimedWorkerPool(
      {
        script: workerScript(),
        size,
        failure,
        noun: 'function',
        groupOf: ({ fn }) => fn.key,
        onHandoff: (result, handoffUs) => {
          result.timings.handoffUs = handoffUs;
        },
        // Each worker's outbound calls are made here, on the main thread; a replaced worker's calls are aborted.
        setup: () => {
          const link = openOutboundLink();
          const kv = openKvLink(kvRemote);
          return {
            workerData: { outbound: link.guest, kv: kv.guest } satisfies PoolWorkerData,
            transferList: [link.guest.port, kv.guest.port],
            dispose: () => (link.server.close(), kv.server.close()),
          };
        },
      },
      // Each worker compiles nothing: the module is posted once per worker (slot.state) and cached there.
      ({ fn, req }, slot, pipelined) => {
        const first = !slot.state.has(fn.key);
        slot.state.add(fn.key);
        const outbound = usesOutbound(fn.module) ? (fn.outbound ?? DEFAULT_OUTBOUND) : undefined;
        const kv = usesKv(fn.module) ? fn.kv : undefined;
        const message = { type: 'invoke', key: fn.key, module: first ? fn.module : undefined, req, fn: fn.fn, memoryCapBytes: fn.memoryCapBytes, pooledMemory: fn.pooledMemory, outbound, kv };
        return { message, transfer: pipelined ? [] : transferable(req.body) };
      },
    );
  }

  /**
   * Runs one request; never rejects: failures come back as 5xx results. When `signal` aborts
   * (the client went away) the request is dropped, or its run stopped, and it resolves as a 499.
   * The body may be moved to the worker: do not read `req.body` afterwards. With `cap`, at
   * most `cap.max` requests under `cap.key` run at once; one past it waits on one of their
   * workers, posted ahead, so it starts as soon as the one before it ends (wfn serve's limiter).
   */
  invoke(fn: LoadedFunction, req: HttpRequest, signal?: AbortSignal, cap?: RunCap): Promise<InvokeResult> {
    return this.pool.run({ fn, req }, fn.timeoutMs, signal, cap);
  }

  /** Drops a module from every worker's cache (after a redeploy or delete). */
  forget(key: string): void {
    this.pool.broadcast({ type: 'forget', key } satisfies PoolRequest, (slot) => slot.state.delete(key));
  }

  /** Workers replaced after a timeout or crash (for metrics and tests). */
  get replaced(): number {
    return this.pool.replaced;
  }

  get busy(): number {
    return this.pool.busy;
  }

  get queued(): number {
    return this.pool.queued;
  }

  /** Workers alive now (more than `size` while extra ones serve functions below their share). */
  get workers(): number {
    return this.pool.workers;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
