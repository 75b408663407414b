/**
 * Worker threads that each run one task at a time under a wall-clock timeout. V8 cannot
 * interrupt running wasm on the thread that runs it, so a task that overruns has its worker
 * terminated and replaced, and resolves as a failure while the others keep being served.
 * Shared by the function pool (dev, run, serve) and the Fastly emulator.
 *
 * Protocol: a worker posts `{ ready: true }` once its script is loaded; the pool posts
 * `{ ...message, id, cancelled? }` (after an optional `init` message to each new worker) and the
 * worker replies `{ id, result }` or `{ id, error }`, one task at a time, in order. `cancelled` is a
 * one-cell Int32Array on shared memory: a worker that finds it set when the task's turn comes
 * replies at once without running it. A task's timer starts when it is the head of a ready worker,
 * so starting a thread (slow on a loaded machine) never counts against a function's timeout.
 *
 * Fair shares. Tasks belong to groups (functions). A free worker goes to the waiting group that
 * holds the fewest workers, oldest task first. A group's share is `size / groups with work`;
 * when every worker is held and a group below its share waits, the pool starts an extra worker
 * for it (at most `maxOverflow` extra, retired once idle). Running wasm cannot be paused, so this
 * is how a few functions that loop or run long never keep every other function waiting.
 *
 * Cancellation. `run` takes an AbortSignal (the client went away): a waiting task is dropped,
 * a running one has its worker terminated and replaced; both resolve as `abandoned` (499).
 *
 * Pipelining. While a single group is waiting, each of its workers is given a second task, so
 * the next one is already there when a run ends (profiled under load: with one task per worker,
 * threads spent 60-80 % of their time waiting for each other). Only the head task is running; its
 * timer starts when the task before it is answered. When the head overruns or is cancelled, the
 * worker is replaced and the tasks queued behind it (not started) go back to the queue's front.
 */
import { Worker, type Transferable } from 'node:worker_threads';
import type { Outcome } from '../types.js';

export interface WorkerReply<R> {
  /** Sent once, when the worker's script has loaded. */
  ready?: true;
  id: number;
  result?: R;
  error?: string;
  /** µs the worker spent on the task, from the message's arrival to its reply (for the hand-off cost). */
  busyUs?: number;
}

export interface TimedPoolOptions<R, P = unknown> {
  /** The worker script (an ES module file). */
  script: string;
  size: number;
  /** Sent to every new worker before its first task (e.g. the module it serves). */
  init?: unknown;
  /** The result a task resolves with when it fails on the pool's side (timeout, crash, cancel, shutdown). */
  failure(status: number, outcome: Outcome, reason: string, runUs?: number): R;
  /** Words for messages: "function", "program". */
  noun: string;
  /** The task's group (its function) for fair shares; without it, all tasks are one group. */
  groupOf?(payload: P): string;
  /** Extra workers the pool may start for groups below their share (default: `size`). */
  maxOverflow?: number;
  /** Per new worker: its workerData (with what it transfers), and what to undo when it is gone. */
  setup?(): WorkerSetup;
  /** Called with each result a worker sent and the hand-off cost (round trip minus the worker's time), µs. */
  onHandoff?(result: R, handoffUs: number): void;
}

/** A cap on the tasks of one caller (a function of wfn serve) running at once. */
export interface RunCap {
  key: string;
  max: number;
}

export interface WorkerSetup {
  workerData: unknown;
  transferList: Transferable[];
  /** Called once the worker is terminated or replaced. */
  dispose(): void;
}

/** The message for one task, and what to transfer (not copy) with it when the task cannot come back to the queue. */
export interface Encoded {
  message: Record<string, unknown>;
  transfer?: ArrayBuffer[];
}

interface Task<P, R> {
  id: number;
  payload: P;
  group: string;
  timeoutMs: number;
  settled: boolean;
  /** Set on shared memory once the task is cancelled after it was posted behind another. */
  cancelled?: Int32Array;
  /** When it was posted to its worker (performance.now()). */
  postedAt?: number;
  /** At most `max` tasks with this cap's key run at once; past it, it waits behind one of them. */
  cap?: RunCap;
  resolve(result: R): void;
  detach(): void;
}

/** One worker; `state` lives as long as the worker does (e.g. which modules it holds). */
export interface WorkerSlot {
  readonly state: Set<string>;
}

const PIPELINE_DEPTH = 2;

interface Slot<P, R> extends WorkerSlot {
  worker: Worker;
  /** The worker's script has loaded (it said so). */
  ready: boolean;
  /** The group of the last task it was given (inherited by the worker that replaces it). */
  lastGroup?: string;
  /** Tasks sent to this worker, in order; the first one is running. */
  inflight: Task<P, R>[];
  timer?: NodeJS.Timeout;
  started?: number;
  dispose?(): void;
}

export class TimedWorkerPool<P, R> {
  private readonly slots: Slot<P, R>[] = [];
  private readonly queue: Task<P, R>[] = [];
  private readonly maxSlots: number;
  private nextId = 1;
  private closed = false;
  /** Workers replaced after a timeout, a crash or a cancelled run. */
  replaced = 0;

  constructor(
    private readonly options: TimedPoolOptions<R, P>,
    /** Turns a task into the message for the worker it was given to; `pipelined` when it waits behind another task. */
    private readonly encode: (payload: P, slot: WorkerSlot, pipelined: boolean) => Encoded,
  ) {
    this.maxSlots = options.size + (options.maxOverflow ?? options.size);
    for (let i = 0; i < options.size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot<P, R> {
    const setup = this.options.setup?.();
    const worker = new Worker(this.options.script, setup ? { workerData: setup.workerData, transferList: setup.transferList } : undefined);
    const slot: Slot<P, R> = { worker, ready: false, state: new Set(), inflight: [], dispose: setup?.dispose };
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
  run(payload: P, timeoutMs: number, signal?: AbortSignal, cap?: RunCap): Promise<R> {
    if (this.closed) return Promise.resolve(this.options.failure(503, 'busy', 'shutting down'));
    if (signal?.aborted) return Promise.resolve(this.abandoned('before the run started'));
    return new Promise((resolve) => {
      const onAbort = () => this.cancel(task);
      const task: Task<P, R> = {
        id: this.nextId++,
        payload,
        group: this.options.groupOf?.(payload) ?? '',
        timeoutMs,
        cap,
        settled: false,
        resolve,
        detach: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(task);
      this.dispatch();
    });
  }

  /** Posts a message to every worker (e.g. to drop a cached module). */
  broadcast(message: unknown, onlyIf: (slot: WorkerSlot) => boolean = () => true): void {
    for (const slot of this.slots) if (onlyIf(slot)) slot.worker.postMessage(message);
  }

  /** Workers running a task now (extra workers for fair shares included). */
  get busy(): number {
    return this.slots.filter((s) => s.inflight.length > 0).length;
  }

  /** Tasks waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Workers alive now: `size`, plus extra ones started for fair shares. */
  get workers(): number {
    return this.slots.length;
  }

  private abandoned(when: string, runUs = 0): R {
    return this.options.failure(499, 'abandoned', `the client closed the connection ${when}`, runUs);
  }

  private settle(task: Task<P, R>, result: R): void {
    if (task.settled) return;
    task.settled = true;
    task.detach();
    task.resolve(result);
  }

  /** Workers held by a group: the ones whose running task is the group's. */
  private holding(group: string): number {
    let n = 0;
    for (const slot of this.slots) if (slot.inflight[0]?.group === group && !slot.inflight[0].settled) n++;
    return n;
  }

  /** Workers running a task under the cap `key`. */
  private runningUnder(key: string): number {
    let n = 0;
    for (const slot of this.slots) if (slot.inflight[0]?.cap?.key === key && !slot.inflight[0].settled) n++;
    return n;
  }

  /** The groups with a task running or waiting. */
  private activeGroups(): Set<string> {
    const groups = new Set<string>();
    for (const slot of this.slots) if (slot.inflight[0]) groups.add(slot.inflight[0].group);
    for (const task of this.queue) groups.add(task.group);
    return groups;
  }

  /** The next task to start: from the waiting group holding the fewest workers, oldest first (groups in `blocked` wait). */
  private pick(blocked: Set<string>): Task<P, R> | undefined {
    let best: Task<P, R> | undefined;
    let bestHolding = Infinity;
    const seen = new Set<string>();
    for (const task of this.queue) {
      if (bestHolding === 0) break;
      if (blocked.has(task.group) || seen.has(task.group)) continue;
      seen.add(task.group);
      const holding = this.holding(task.group);
      if (holding < bestHolding) [best, bestHolding] = [task, holding];
    }
    return best;
  }

  private dispatch(): void {
    // Groups that cannot place a task in this round (their turn comes when a worker frees up).
    const blocked = new Set<string>();
    while (this.queue.length > 0 && !this.closed) {
      const task = this.pick(blocked);
      if (!task) break;
      const cap = task.cap;
      if (cap && this.runningUnder(cap.key) >= cap.max) {
        // At its cap: it waits on a worker running a task under the same cap, behind it (it starts
        // there without a round trip through this thread), and never takes another worker.
        const own = this.slots.find((s) => s.inflight.length < PIPELINE_DEPTH && s.inflight[0]?.cap?.key === cap.key && !s.inflight[0].settled);
        if (own) this.assign(own, task, true);
        else blocked.add(task.group);
        continue;
      }
      let slot = this.idleSlotFor(task.group);
      if (!slot && this.belowShare(task.group) && this.slots.length < this.maxSlots) {
        slot = this.spawn();
        this.slots.push(slot);
      }
      if (slot) {
        this.assign(slot, task, false);
        continue;
      }
      // Every worker is held: pipeline only while one group alone waits (never ahead of another group).
      const behind = this.queue.some((t) => t.group !== task.group)
        ? undefined
        : this.slots.find((s) => s.inflight.length < PIPELINE_DEPTH && s.inflight[0]?.group === task.group && !s.inflight[0].settled);
      if (behind) this.assign(behind, task, true);
      else blocked.add(task.group);
    }
    this.retireIdle();
  }

  /**
   * The idle worker for a task of `group`: a ready one that last ran the group (it holds its
   * module), else a ready unused one, else the group's own worker still starting (a replaced
   * worker's start is charged to the function whose run was stopped, not to another), else any
   * ready one, else any. Starting a thread can take a second on a loaded machine.
   */
  private idleSlotFor(group: string): Slot<P, R> | undefined {
    let best: Slot<P, R> | undefined;
    let bestRank = -1;
    for (const slot of this.slots) {
      if (slot.inflight.length > 0) continue;
      const same = slot.lastGroup === group;
      const rank = slot.ready ? (same ? 4 : slot.lastGroup === undefined ? 3 : 1) : same ? 2 : 0;
      if (rank > bestRank) [best, bestRank] = [slot, rank];
    }
    return best;
  }

  private belowShare(group: string): boolean {
    return this.holding(group) < this.options.size / this.activeGroups().size;
  }

  private assign(slot: Slot<P, R>, task: Task<P, R>, pipelined: boolean): void {
    this.queue.splice(this.queue.indexOf(task), 1);
    slot.inflight.push(task);
    slot.lastGroup = task.group;
    task.postedAt = performance.now();
    const { message, transfer } = this.encode(task.payload, slot, pipelined);
    task.cancelled = pipelined ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
    slot.worker.postMessage({ ...message, id: task.id, cancelled: task.cancelled }, pipelined ? [] : (transfer ?? []));
    if (slot.inflight.length === 1) this.startTimer(slot);
  }

  /** Extra workers go once idle. */
  private retireIdle(): void {
    for (let i = this.slots.length - 1; i >= 0 && this.slots.length > this.options.size; i--) {
      const slot = this.slots[i];
      if (slot.inflight.length > 0) continue;
      this.slots.splice(i, 1);
      slot.worker.removeAllListeners();
      void slot.worker.terminate();
      slot.dispose?.();
    }
  }

  private startTimer(slot: Slot<P, R>): void {
    const head = slot.inflight[0];
    if (!slot.ready || !head) return; // started when the worker says it is ready
    slot.started = performance.now();
    slot.timer = setTimeout(() => this.timeout(slot), head.timeoutMs);
  }

  private elapsedUs(slot: Slot<P, R>): number {
    return slot.started === undefined ? 0 : Math.round((performance.now() - slot.started) * 1000);
  }

  private finish(slot: Slot<P, R>, reply: WorkerReply<R>): void {
    if (reply.ready) {
      slot.ready = true;
      this.startTimer(slot);
      return;
    }
    const task = slot.inflight[0];
    if (!task || task.id !== reply.id) return;
    clearTimeout(slot.timer);
    if (reply.result !== undefined && reply.busyUs !== undefined && task.postedAt !== undefined && this.options.onHandoff) {
      // From when the task could start (posted, or the one before it answered) to its answer.
      const since = Math.max(task.postedAt, slot.started ?? task.postedAt);
      this.options.onHandoff(reply.result, Math.max(0, Math.round((performance.now() - since) * 1000 - reply.busyUs)));
    }
    slot.started = undefined;
    slot.inflight.shift();
    if (slot.inflight.length > 0) this.startTimer(slot);
    this.settle(task, reply.result ?? this.options.failure(500, 'trap', `host error: ${reply.error}`));
    this.dispatch();
  }

  private timeout(slot: Slot<P, R>): void {
    const task = slot.inflight[0];
    if (!task) return;
    const elapsedUs = this.elapsedUs(slot);
    this.replace(slot);
    this.settle(task, this.options.failure(504, 'timeout', `the ${this.options.noun} ran longer than its timeout (${task.timeoutMs} ms) and was stopped`, elapsedUs));
    this.dispatch();
  }

  private crash(slot: Slot<P, R>, reason: string): void {
    const task = slot.inflight[0];
    this.replace(slot);
    if (task) this.settle(task, this.options.failure(500, 'trap', reason));
    this.dispatch();
  }

  /** The client went away: drop the task if it waits, stop its run if it runs. */
  private cancel(task: Task<P, R>): void {
    if (task.settled) return;
    const queued = this.queue.indexOf(task);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.settle(task, this.abandoned('before the run started'));
      return;
    }
    const slot = this.slots.find((s) => s.inflight.includes(task));
    if (!slot) return;
    if (slot.inflight[0] !== task) {
      // Posted behind another task: the worker skips it when its turn comes.
      if (task.cancelled) Atomics.store(task.cancelled, 0, 1);
      this.settle(task, this.abandoned('before the run started'));
      return;
    }
    const elapsedUs = this.elapsedUs(slot);
    this.replace(slot);
    this.settle(task, this.abandoned(`after ${Math.round(elapsedUs / 1000)} ms: the run was stopped`, elapsedUs));
    this.dispatch();
  }

  /** Terminates the worker; the tasks that waited behind the running one go back to the queue's front. */
  private replace(slot: Slot<P, R>): void {
    clearTimeout(slot.timer);
    const index = this.slots.indexOf(slot);
    const waiting = slot.inflight.slice(1).filter((t) => !t.settled);
    slot.inflight = [];
    slot.worker.removeAllListeners();
    void slot.worker.terminate();
    slot.dispose?.();
    this.replaced++;
    for (let i = waiting.length - 1; i >= 0; i--) this.queue.unshift(waiting[i]);
    if (index < 0 || this.closed) return;
    if (this.slots.length > this.options.size) this.slots.splice(index, 1); // an extra worker is not replaced
    else {
      this.slots[index] = this.spawn();
      this.slots[index].lastGroup = slot.lastGroup;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) this.settle(task, this.options.failure(503, 'busy', 'shutting down'));
    for (const slot of this.slots) {
      clearTimeout(slot.timer);
      for (const task of slot.inflight.splice(0)) this.settle(task, this.options.failure(503, 'busy', 'shutting down'));
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    for (const slot of this.slots) slot.dispose?.();
  }
}
