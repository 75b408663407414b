/**
 * A pool of worker threads that run invocations. Functions run off the main thread because
 * V8 cannot interrupt running wasm on its own thread: a worker that overruns its timeout is
 * terminated and replaced, and the request gets a 504 while the server keeps answering.
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { errorResponse } from '../cgi.js';
import type { FunctionContext, HttpRequest, InvokeResult, Outcome } from '../types.js';
import type { PooledMemoryLimits } from '../invoke.js';

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
}

export type PoolRequest =
  | { type: 'invoke'; id: number; key: string; module?: WebAssembly.Module; req: HttpRequest; fn: FunctionContext; memoryCapBytes: number; pooledMemory?: PooledMemoryLimits }
  | { type: 'forget'; key: string };

export interface PoolReply {
  id: number;
  result?: InvokeResult;
  error?: string;
}

interface Task {
  id: number;
  fn: LoadedFunction;
  req: HttpRequest;
  resolve(result: InvokeResult): void;
}

interface Slot {
  worker: Worker;
  known: Set<string>;
  task?: Task;
  timer?: NodeJS.Timeout;
  started?: number;
}

/** The compiled worker script; under vitest (running .ts sources) the built copy in lib/. */
function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = path.join(path.dirname(here), 'pool-worker.js');
  if (existsSync(sibling)) return sibling;
  const root = here.slice(0, here.lastIndexOf(`${path.sep}src${path.sep}`));
  const built = path.join(root, 'lib', 'src', 'runtime', 'node', 'pool-worker.js');
  if (!existsSync(built)) throw new Error(`worker script not found at ${built}: run "npm run build" first`);
  return built;
}

function failure(status: number, outcome: Outcome, reason: string, runUs = 0): InvokeResult {
  return { response: errorResponse(status), stderr: new Uint8Array(0), outcome, reason, timings: { instantiateUs: 0, runUs } };
}

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  /** Workers replaced after a timeout or crash (for metrics and tests). */
  replaced = 0;

  constructor(readonly size = Math.max(1, availableParallelism())) {
    const script = workerScript();
    for (let i = 0; i < size; i++) this.slots.push(this.spawn(script));
  }

  private spawn(script = workerScript()): Slot {
    const slot: Slot = { worker: new Worker(script), known: new Set() };
    slot.worker.unref();
    slot.worker.on('message', (reply: PoolReply) => this.finish(slot, reply));
    slot.worker.on('error', (error) => this.crash(slot, `worker crashed: ${error.message}`));
    slot.worker.on('exit', (code) => {
      if (!this.closed && slot.task) this.crash(slot, `worker exited with code ${code}`);
    });
    return slot;
  }

  /** Runs one request; never rejects: failures come back as 5xx results. */
  invoke(fn: LoadedFunction, req: HttpRequest): Promise<InvokeResult> {
    if (this.closed) return Promise.resolve(failure(503, 'busy', 'the worker pool is shut down'));
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, fn, req, resolve });
      this.dispatch();
    });
  }

  /** Drops a module from every worker's cache (after a redeploy or delete). */
  forget(key: string): void {
    for (const slot of this.slots) {
      if (slot.known.delete(key)) slot.worker.postMessage({ type: 'forget', key } satisfies PoolRequest);
    }
  }

  get busy(): number {
    return this.slots.filter((s) => s.task).length;
  }

  get queued(): number {
    return this.queue.length;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.task) continue;
      // Prefer a worker that already holds the module.
      const task = this.queue.shift()!;
      this.start(slot, task);
    }
  }

  private start(slot: Slot, task: Task): void {
    slot.task = task;
    slot.started = performance.now();
    const first = !slot.known.has(task.fn.key);
    slot.known.add(task.fn.key);
    const msg: PoolRequest = {
      type: 'invoke',
      id: task.id,
      key: task.fn.key,
      module: first ? task.fn.module : undefined,
      req: task.req,
      fn: task.fn.fn,
      memoryCapBytes: task.fn.memoryCapBytes,
      pooledMemory: task.fn.pooledMemory,
    };
    slot.worker.postMessage(msg);
    slot.timer = setTimeout(() => this.timeout(slot), task.fn.timeoutMs);
  }

  private finish(slot: Slot, reply: PoolReply): void {
    const task = slot.task;
    if (!task || task.id !== reply.id) return;
    clearTimeout(slot.timer);
    slot.task = undefined;
    task.resolve(reply.result ?? failure(500, 'trap', `host error: ${reply.error}`));
    this.dispatch();
  }

  private timeout(slot: Slot): void {
    const task = slot.task;
    if (!task) return;
    const elapsedUs = Math.round((performance.now() - (slot.started ?? 0)) * 1000);
    this.replace(slot);
    task.resolve(failure(504, 'timeout', `the function ran longer than its timeout (${task.fn.timeoutMs} ms) and was stopped`, elapsedUs));
    this.dispatch();
  }

  private crash(slot: Slot, reason: string): void {
    const task = slot.task;
    this.replace(slot);
    task?.resolve(failure(500, 'trap', reason));
    this.dispatch();
  }

  private replace(slot: Slot): void {
    clearTimeout(slot.timer);
    const index = this.slots.indexOf(slot);
    slot.task = undefined;
    slot.worker.removeAllListeners();
    void slot.worker.terminate();
    this.replaced++;
    if (index >= 0 && !this.closed) this.slots[index] = this.spawn();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.resolve(failure(503, 'busy', 'the server is shutting down'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
