/**
 * Worker threads that each run one task at a time under a wall-clock timeout. V8 cannot
 * interrupt running wasm on the thread that runs it, so a task that overruns has its worker
 * terminated and replaced, and resolves as a failure while the others keep being served.
 * Shared by the function pool (dev, run, serve) and the Fastly emulator.
 *
 * Protocol: the pool posts `{ ...message, id }` (after an optional `init` message to each new
 * worker) and the worker replies `{ id, result }` or `{ id, error }`, one task at a time, in order.
 *
 * Each worker is given up to PIPELINE_DEPTH tasks, so the next one is already waiting when a run
 * ends: with one task per worker, threads spent most of their time waiting for each other
 * (profiled under load: main thread and workers 60-80 % idle). Only the head task is running;
 * its timer starts when the task before it is answered. When the head overruns, the worker is
 * replaced and the tasks queued behind it (not started) go back to the front of the queue; only
 * tasks of the same group (function) are queued behind one another.
 */
import { Worker, type Transferable } from 'node:worker_threads';
import type { Outcome } from '../types.js';

export interface WorkerReply<R> {
  id: number;
  result?: R;
  error?: string;
}

export interface TimedPoolOptions<R, P = unknown> {
  /** The worker script (an ES module file). */
  script: string;
  size: number;
  /** Sent to every new worker before its first task (e.g. the module it serves). */
  init?: unknown;
  /** The result a task resolves with when it fails on the pool's side (timeout, crash, shutdown). */
  failure(status: number, outcome: Outcome, reason: string, runUs?: number): R;
  /** Words for messages: "function", "program". */
  noun: string;
  /**
   * Tasks are queued behind a running one only when they share its group (the same function):
   * a function that loops then delays only its own requests, never another function's.
   */
  groupOf?(payload: P): string;
  /** Per new worker: its workerData (with what it transfers), and what to undo when it is gone. */
  setup?(): WorkerSetup;
}

export interface WorkerSetup {
  workerData: unknown;
  transferList: Transferable[];
  /** Called once the worker is terminated or replaced. */
  dispose(): void;
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

const PIPELINE_DEPTH = 2;

interface Slot<P, R> extends WorkerSlot {
  worker: Worker;
  /** Tasks sent to this worker, in order; the first one is running. */
  inflight: Task<P, R>[];
  timer?: NodeJS.Timeout;
  started?: number;
  dispose?(): void;
}

export class TimedWorkerPool<P, R> {
  private readonly slots: Slot<P, R>[] = [];
  private readonly queue: Task<P, R>[] = [];
  private nextId = 1;
  private closed = false;
  /** Workers replaced after a timeout or a crash. */
  replaced = 0;

  constructor(
    private readonly options: TimedPoolOptions<R, P>,
    /** Turns a task into the message for the worker it was given to. */
    private readonly encode: (payload: P, slot: WorkerSlot) => Record<string, unknown>,
  ) {
    for (let i = 0; i < options.size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot<P, R> {
    const setup = this.options.setup?.();
    const worker = new Worker(this.options.script, setup ? { workerData: setup.workerData, transferList: setup.transferList } : undefined);
    const slot: Slot<P, R> = { worker, state: new Set(), inflight: [], dispose: setup?.dispose };
    slot.worker.unref();
    if (this.options.init !== undefined) slot.worker.postMessage(this.options.init);
    slot.worker.on('message', (reply: WorkerReply<R>) => this.finish(slot, reply));
    slot.worker.on('error', (error) => this.crash(slot, `worker crashed: ${error.message}`));
    slot.worker.on('exit', (code) => {
      if (!this.closed && slot.inflight.length > 0) this.crash(slot, `worker exited with code ${code}`);
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
    return this.slots.filter((s) => s.inflight.length > 0).length;
  }

  get queued(): number {
    return this.queue.length;
  }

  private dispatch(): void {
    // Idle workers first, then a second task for busy ones.
    for (let depth = 0; depth < PIPELINE_DEPTH; depth++) {
      for (const slot of this.slots) {
        if (this.queue.length === 0) return;
        if (slot.inflight.length !== depth) continue;
        const group = this.options.groupOf;
        if (depth > 0 && group && group(this.queue[0].payload) !== group(slot.inflight[0].payload)) continue;
        const task = this.queue.shift()!;
        slot.inflight.push(task);
        slot.worker.postMessage({ ...this.encode(task.payload, slot), id: task.id });
        if (slot.inflight.length === 1) this.startTimer(slot);
      }
    }
  }

  private startTimer(slot: Slot<P, R>): void {
    const head = slot.inflight[0];
    slot.started = performance.now();
    slot.timer = setTimeout(() => this.timeout(slot), head.timeoutMs);
  }

  private finish(slot: Slot<P, R>, reply: WorkerReply<R>): void {
    const task = slot.inflight[0];
    if (!task || task.id !== reply.id) return;
    clearTimeout(slot.timer);
    slot.inflight.shift();
    if (slot.inflight.length > 0) this.startTimer(slot);
    task.resolve(reply.result ?? this.options.failure(500, 'trap', `host error: ${reply.error}`));
    this.dispatch();
  }

  private timeout(slot: Slot<P, R>): void {
    const task = slot.inflight[0];
    if (!task) return;
    const elapsedUs = Math.round((performance.now() - (slot.started ?? 0)) * 1000);
    this.replace(slot);
    task.resolve(this.options.failure(504, 'timeout', `the ${this.options.noun} ran longer than its timeout (${task.timeoutMs} ms) and was stopped`, elapsedUs));
    this.dispatch();
  }

  private crash(slot: Slot<P, R>, reason: string): void {
    const task = slot.inflight[0];
    this.replace(slot);
    task?.resolve(this.options.failure(500, 'trap', reason));
    this.dispatch();
  }

  /** Terminates the worker; the tasks that waited behind the running one go back to the queue's front. */
  private replace(slot: Slot<P, R>): void {
    clearTimeout(slot.timer);
    const index = this.slots.indexOf(slot);
    const waiting = slot.inflight.slice(1);
    slot.inflight = [];
    slot.worker.removeAllListeners();
    void slot.worker.terminate();
    slot.dispose?.();
    this.replaced++;
    this.queue.unshift(...waiting);
    if (index >= 0 && !this.closed) this.slots[index] = this.spawn();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.resolve(this.options.failure(503, 'busy', 'shutting down'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    for (const slot of this.slots) slot.dispose?.();
  }
}
