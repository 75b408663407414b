/**
 * Worker threads that each run one task at a time under a wall-clock timeout. V8 cannot
 * interrupt running wasm on the thread that runs it, so a task that overruns has its worker
 * terminated and replaced, and resolves as a failure while the others keep being served.
 * Shared by the function pool (dev, run, serve) and the Fastly emulator.
 *
 * Protocol: the pool posts `{ ...message, id }` (after an optional `init` message to each new
 * worker) and the worker replies `{ id, result }` or `{ id, error }`.
 */
import { Worker } from 'node:worker_threads';
import type { Outcome } from '../types.js';

export interface WorkerReply<R> {
  id: number;
  result?: R;
  error?: string;
}

export interface TimedPoolOptions<R> {
  /** The worker script (an ES module file). */
  script: string;
  size: number;
  /** Sent to every new worker before its first task (e.g. the module it serves). */
  init?: unknown;
  /** The result a task resolves with when it fails on the pool's side (timeout, crash, shutdown). */
  failure(status: number, outcome: Outcome, reason: string, runUs?: number): R;
  /** Words for messages: "function", "program". */
  noun: string;
}

interface Task<P, R> {
  id: number;
  payload: P;
  timeoutMs: number;
  resolve(result: R): void;
}

/** One worker; `state` lives as long as the worker does (e.g. which modules it holds). */
export interface WorkerSlot {
  readonly state: Set<string>;
}

interface Slot<P, R> extends WorkerSlot {
  worker: Worker;
  task?: Task<P, R>;
  timer?: NodeJS.Timeout;
  started?: number;
}

export class TimedWorkerPool<P, R> {
  private readonly slots: Slot<P, R>[] = [];
  private readonly queue: Task<P, R>[] = [];
  private nextId = 1;
  private closed = false;
  /** Workers replaced after a timeout or a crash. */
  replaced = 0;

  constructor(
    private readonly options: TimedPoolOptions<R>,
    /** Turns a task into the message for the worker it was given to. */
    private readonly encode: (payload: P, slot: WorkerSlot) => Record<string, unknown>,
  ) {
    for (let i = 0; i < options.size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot<P, R> {
    const slot: Slot<P, R> = { worker: new Worker(this.options.script), state: new Set() };
    slot.worker.unref();
    if (this.options.init !== undefined) slot.worker.postMessage(this.options.init);
    slot.worker.on('message', (reply: WorkerReply<R>) => this.finish(slot, reply));
    slot.worker.on('error', (error) => this.crash(slot, `worker crashed: ${error.message}`));
    slot.worker.on('exit', (code) => {
      if (!this.closed && slot.task) this.crash(slot, `worker exited with code ${code}`);
    });
    return slot;
  }

  /** Runs one task; never rejects: failures come back as the pool's failure results. */
  run(payload: P, timeoutMs: number): Promise<R> {
    if (this.closed) return Promise.resolve(this.options.failure(503, 'busy', 'shutting down'));
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, payload, timeoutMs, resolve });
      this.dispatch();
    });
  }

  /** Posts a message to every worker (e.g. to drop a cached module). */
  broadcast(message: unknown, onlyIf: (slot: WorkerSlot) => boolean = () => true): void {
    for (const slot of this.slots) if (onlyIf(slot)) slot.worker.postMessage(message);
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
      const task = this.queue.shift()!;
      slot.task = task;
      slot.started = performance.now();
      slot.worker.postMessage({ ...this.encode(task.payload, slot), id: task.id });
      slot.timer = setTimeout(() => this.timeout(slot), task.timeoutMs);
    }
  }

  private finish(slot: Slot<P, R>, reply: WorkerReply<R>): void {
    const task = slot.task;
    if (!task || task.id !== reply.id) return;
    clearTimeout(slot.timer);
    slot.task = undefined;
    task.resolve(reply.result ?? this.options.failure(500, 'trap', `host error: ${reply.error}`));
    this.dispatch();
  }

  private timeout(slot: Slot<P, R>): void {
    const task = slot.task;
    if (!task) return;
    const elapsedUs = Math.round((performance.now() - (slot.started ?? 0)) * 1000);
    this.replace(slot);
    task.resolve(this.options.failure(504, 'timeout', `the ${this.options.noun} ran longer than its timeout (${task.timeoutMs} ms) and was stopped`, elapsedUs));
    this.dispatch();
  }

  private crash(slot: Slot<P, R>, reason: string): void {
    const task = slot.task;
    this.replace(slot);
    task?.resolve(this.options.failure(500, 'trap', reason));
    this.dispatch();
  }

  private replace(slot: Slot<P, R>): void {
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
    for (const task of this.queue.splice(0)) task.resolve(this.options.failure(503, 'busy', 'shutting down'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
