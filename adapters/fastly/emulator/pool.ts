/**
 * Worker threads that run the emulated requests. V8 cannot interrupt wasm on the thread
 * that runs it, so a request that overruns its timeout has its worker terminated and
 * replaced, and gets a 504; the emulator keeps answering.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { errorResponse } from '../../../src/runtime/cgi.js';
import type { ImportEntry } from '../wasm-binary.js';
import type { DownstreamRequest } from './hostcalls.js';
import type { FastlyOutcome, FastlyRunResult } from './run.js';
import type { WorkerReply, WorkerRequest } from './worker.js';

export interface PoolOptions {
  module: WebAssembly.Module;
  imports: ImportEntry[];
  memoryCapBytes: number;
  timeoutMs: number;
  size?: number;
}

interface Task {
  id: number;
  req: DownstreamRequest;
  requestId: string;
  resolve(result: FastlyRunResult): void;
}

interface Slot {
  worker: Worker;
  task?: Task;
  timer?: NodeJS.Timeout;
  started?: number;
}

let bundledWorker: Promise<string> | undefined;

/** worker.js beside this file; from the TypeScript sources (tests), worker.ts bundled by esbuild. */
async function workerScript(): Promise<string> {
  const here = fileURLToPath(import.meta.url);
  const dir = path.dirname(here);
  const sibling = path.join(dir, 'worker.js');
  if (here.endsWith('.js') && existsSync(sibling)) return sibling;
  bundledWorker ??= (async () => {
    const { build } = await import('esbuild');
    const outDir = path.join(os.tmpdir(), 'wfn-fastly-emulator');
    await mkdir(outDir, { recursive: true });
    const outfile = path.join(outDir, `worker-${process.pid}.mjs`);
    await build({
      entryPoints: [path.join(dir, 'worker.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'silent',
    });
    return outfile;
  })();
  return bundledWorker;
}

export function failedRun(status: number, outcome: FastlyOutcome, reason: string, runUs = 0): FastlyRunResult {
  return {
    response: errorResponse(status),
    outcome,
    reason,
    logs: [],
    stdout: new Uint8Array(0),
    stderr: new Uint8Array(0),
    unsupported: [],
    timings: { instantiateUs: 0, runUs },
  };
}

export class EmulatorPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  /** Workers replaced after a timeout or a crash. */
  replaced = 0;

  private constructor(private readonly options: PoolOptions, private readonly script: string) {
    const size = options.size ?? Math.min(4, Math.max(1, os.availableParallelism()));
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  static async create(options: PoolOptions): Promise<EmulatorPool> {
    return new EmulatorPool(options, await workerScript());
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(this.script) };
    slot.worker.unref();
    const load: WorkerRequest = { type: 'load', module: this.options.module, imports: this.options.imports, memoryCapBytes: this.options.memoryCapBytes };
    slot.worker.postMessage(load);
    slot.worker.on('message', (reply: WorkerReply) => this.finish(slot, reply));
    slot.worker.on('error', (error) => this.crash(slot, `worker crashed: ${error.message}`));
    slot.worker.on('exit', (code) => {
      if (!this.closed && slot.task) this.crash(slot, `worker exited with code ${code}`);
    });
    return slot;
  }

  /** Runs one request; never rejects: failures come back as 5xx results. */
  invoke(req: DownstreamRequest, requestId: string): Promise<FastlyRunResult> {
    if (this.closed) return Promise.resolve(failedRun(503, 'busy', 'the emulator is shutting down'));
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, req, requestId, resolve });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.task) continue;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.started = performance.now();
      const msg: WorkerRequest = { type: 'invoke', id: task.id, req: task.req, requestId: task.requestId };
      slot.worker.postMessage(msg);
      slot.timer = setTimeout(() => this.timeout(slot), this.options.timeoutMs);
    }
  }

  private finish(slot: Slot, reply: WorkerReply): void {
    const task = slot.task;
    if (!task || task.id !== reply.id) return;
    clearTimeout(slot.timer);
    slot.task = undefined;
    task.resolve(reply.result ?? failedRun(500, 'trap', `emulator error: ${reply.error}`));
    this.dispatch();
  }

  private timeout(slot: Slot): void {
    const task = slot.task;
    if (!task) return;
    const elapsedUs = Math.round((performance.now() - (slot.started ?? 0)) * 1000);
    this.replace(slot);
    task.resolve(failedRun(504, 'timeout', `the program ran longer than its timeout (${this.options.timeoutMs} ms) and was stopped`, elapsedUs));
    this.dispatch();
  }

  private crash(slot: Slot, reason: string): void {
    const task = slot.task;
    this.replace(slot);
    task?.resolve(failedRun(500, 'trap', reason));
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
    for (const task of this.queue.splice(0)) task.resolve(failedRun(503, 'busy', 'the emulator is shutting down'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
