/**
 * Per-function admission: at most `concurrency` requests of a function run at once and at most
 * `queue` more wait; beyond that the server answers 503 at once. So a function that loops or
 * floods never holds more than its own slots, and waiting is bounded.
 *
 * Of the waiting requests, up to `concurrency` (and never more than `queue`) are handed to the
 * worker pool ahead of their turn: each waits on the worker of a running request of the same
 * function (the pool caps the function at `concurrency` running) and starts there as soon as that
 * one ends, without a round trip through the main thread (profiled: with one request per worker
 * at a time, the worker and the main thread spent half their time waiting for each other). They
 * still count as waiting.
 */
export type Release = () => void;

interface Lease {
  /** Handed to the pool ahead of its turn; false once it counts as running. */
  ahead: boolean;
}

export class ConcurrencyLimiter {
  private running = 0;
  /** Leases handed out ahead, oldest first (the next to count as running). */
  private readonly aheadLeases: Lease[] = [];
  private readonly waiters: ((release: Release) => void)[] = [];

  constructor(
    public concurrency: number,
    public queue: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get waiting(): number {
    return this.aheadLeases.length + this.waiters.length;
  }

  /** Whether a new request would be refused right now. */
  get saturated(): boolean {
    return this.running >= this.concurrency && this.waiting >= this.queue;
  }

  private get aheadRoom(): boolean {
    return this.aheadLeases.length < Math.min(this.concurrency, this.queue);
  }

  /**
   * A slot (immediately or after waiting), or undefined when running and queue are full. When
   * `signal` aborts while it waits (the client went away), it leaves the queue and resolves undefined.
   * A slot may be one ahead of its turn (see above): the caller hands it to the pool at once either way.
   */
  acquire(signal?: AbortSignal): Promise<Release | undefined> | undefined {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve(this.releaser({ ahead: false }));
    }
    if (this.waiting >= this.queue) return undefined;
    if (this.aheadRoom && this.waiters.length === 0) return Promise.resolve(this.ahead());
    return new Promise((resolve) => {
      const waiter = (release: Release) => {
        signal?.removeEventListener('abort', leave);
        resolve(release);
      };
      const leave = () => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        resolve(undefined);
      };
      if (signal?.aborted) return resolve(undefined);
      signal?.addEventListener('abort', leave, { once: true });
      this.waiters.push(waiter);
    });
  }

  private ahead(): Release {
    const lease: Lease = { ahead: true };
    this.aheadLeases.push(lease);
    return this.releaser(lease);
  }

  private releaser(lease: Lease): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (lease.ahead) this.aheadLeases.splice(this.aheadLeases.indexOf(lease), 1);
      else this.running--;
      this.pump();
    };
  }

  /** Hands freed slots to waiters (also after `concurrency` was raised by a redeploy). */
  pump(): void {
    while (this.running < this.concurrency && (this.aheadLeases.length > 0 || this.waiters.length > 0)) {
      this.running++;
      const next = this.aheadLeases.shift();
      if (next) next.ahead = false;
      else this.waiters.shift()!(this.releaser({ ahead: false }));
    }
    while (this.aheadRoom && this.waiters.length > 0) this.waiters.shift()!(this.ahead());
  }
}
