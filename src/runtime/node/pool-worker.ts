/** Worker-thread side of the pool: keeps compiled modules by key and runs invocations. */
import { parentPort, workerData } from 'node:worker_threads';
import { invokeHttp, tidyMemories } from '../invoke.js';
import { blockingPerform } from './outbound.js';
import { blockingKv } from './kv-link.js';
import { performOn } from '../kv/store.js';
import type { KvBinding } from '../invoke.js';
import type { KvHosting, PoolRequest, PoolReply, PoolWorkerData } from './pool.js';

const perform = blockingPerform((workerData as PoolWorkerData).outbound);
const remoteKv = blockingKv((workerData as PoolWorkerData).kv);

/** better-sqlite3 is loaded on the first function that keeps its stores in SQLite. */
let sqlite: typeof import('./kv-sqlite.js') | undefined;

async function kvBinding(hosting: KvHosting | undefined): Promise<KvBinding | undefined> {
  if (!hosting) return undefined;
  const { settings, backend } = hosting;
  if (backend.kind === 'remote') return { settings, perform: (request) => remoteKv(backend.scope, request) };
  sqlite ??= await import('./kv-sqlite.js');
  const open = sqlite.openSqliteStore;
  return { settings, perform: (request) => performOn((name) => open(backend.dir, name, backend.durable), request) };
}

const modules = new Map<string, WebAssembly.Module>();

// One message at a time, in arrival order: the pool may queue a second task behind the running one.
let chain: Promise<void> = Promise.resolve();
parentPort!.on('message', (msg: PoolRequest) => {
  chain = chain.then(() => handle(msg));
});

async function handle(msg: PoolRequest): Promise<void> {
  const arrived = performance.now();
  if (msg.type === 'forget') {
    modules.delete(msg.key);
    return;
  }
  if (msg.module) modules.set(msg.key, msg.module);
  // Cancelled while it waited behind the previous task: its client is gone, do not run it.
  if (msg.cancelled && Atomics.load(msg.cancelled, 0) === 1) {
    parentPort!.postMessage({ id: msg.id, error: 'cancelled' } satisfies PoolReply);
    return;
  }
  const module = modules.get(msg.key)!;
  let reply: PoolReply;
  try {
    const settings = msg.outbound;
    const outbound = settings ? { settings, perform: (request: Parameters<typeof perform>[0]) => perform(request, settings) } : undefined;
    const kv = await kvBinding(msg.kv);
    const result = await invokeHttp(module, msg.req, msg.fn, { memoryCapBytes: msg.memoryCapBytes, pooledMemory: msg.pooledMemory, outbound, kv });
    reply = { id: msg.id, result };
  } catch (error) {
    reply = { id: msg.id, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
  const transfer = reply.result ? [reply.result.response.body.buffer as ArrayBuffer] : [];
  reply.busyUs = Math.round((performance.now() - arrived) * 1000);
  try {
    parentPort!.postMessage(reply, transfer);
  } catch {
    parentPort!.postMessage(reply); // body is a view of a non-transferable buffer
  }
  // The response is on its way: now reset the memory it ran in, for the next request.
  tidyMemories();
}

// The pool starts a task's timer once this arrives: loading this script is not the function's time.
parentPort!.postMessage({ ready: true });
