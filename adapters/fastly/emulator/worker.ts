/** Worker-thread side of the emulator: keeps the compiled module and runs one request at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import type { KvLink } from '../../../src/runtime/node/kv-link.js';
import type { EmulatedKvStore } from './hostcalls.js';
import { linkedStores } from './kv.js';
import type { ImportEntry } from '../../../src/runtime/wasm-imports.js';
import { BackendNet } from './backend-net.js';
import type { DownstreamRequest } from './hostcalls.js';
import { runFastly, type FastlyRunResult } from './run.js';

export type WorkerRequest =
  | {
      type: 'load';
      module: WebAssembly.Module;
      imports: ImportEntry[];
      memoryCapBytes: number;
      /** The network thread's script (started on the first backend request). */
      netScript: string;
      secretStores?: Record<string, Record<string, string>>;
      dynamicBackends?: boolean;
      /** KV store names linked to the service (reached through workerData.kv). */
      kvStores?: string[];
    }
  | { type: 'invoke'; id: number; req: DownstreamRequest; requestId: string; cancelled?: Int32Array };

export interface WorkerReply {
  id: number;
  result?: FastlyRunResult;
  error?: string;
}

let loaded: Extract<WorkerRequest, { type: 'load' }> | undefined;
let net: BackendNet | undefined;
let kvStores: Record<string, EmulatedKvStore> | undefined;

// One message at a time, in arrival order: the pool may queue a second task behind the running one.
let chain: Promise<void> = Promise.resolve();
parentPort!.on('message', (msg: WorkerRequest) => {
  chain = chain.then(() => handle(msg));
});

async function handle(msg: WorkerRequest): Promise<void> {
  if (msg.type === 'load') {
    loaded = msg;
    net = new BackendNet(msg.netScript);
    const link = (workerData as { kv?: KvLink } | undefined)?.kv;
    kvStores = link && msg.kvStores ? linkedStores(link, msg.kvStores) : undefined;
    return;
  }
  // Cancelled while it waited behind the previous request (the pool's protocol): do not run it.
  if (msg.cancelled && Atomics.load(msg.cancelled, 0) === 1) {
    parentPort!.postMessage({ id: msg.id, error: 'cancelled' } satisfies WorkerReply);
    return;
  }
  let reply: WorkerReply;
  try {
    if (!loaded) throw new Error('no module loaded');
    const result = await runFastly(loaded.module, msg.req, {
      imports: loaded.imports,
      memoryCapBytes: loaded.memoryCapBytes,
      requestId: msg.requestId,
      net,
      secretStores: loaded.secretStores,
      dynamicBackends: loaded.dynamicBackends,
      kvStores,
    });
    reply = { id: msg.id, result };
  } catch (error) {
    reply = { id: msg.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  parentPort!.postMessage(reply);
}

// The pool starts a task's timer once this arrives: loading this script is not the function's time.
parentPort!.postMessage({ ready: true });
