/**
 * Per-function admission: at most `concurrency` requests of a function run at once and at most
 * `queue` more wait; beyond that the server answers 503 at once. So a function that loops or
 * floods never holds more than its own slots, and waiting is bounded.
 */
export type Release = () => void;

export class ConcurrencyLimiter {
  private running = 0;
  private readonly waiters: ((release: Release) => void)[] = [];

  constructor(
    public concurrency: number,
    public queue: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /** Whether a new request would be refused right now. */
  get saturated(): boolean {
    return this.running >= this.concurrency && this.waiters.length >= this.queue;
  }

  /**
   * A slot (immediately or after waiting), or undefined when running and queue are full. When
   * `signal` aborts while it waits (the client went away), it leaves the queue and resolves undefined.
   */
  acquire(signal?: AbortSignal): Promise<Release | undefined> | undefined {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiters.length >= this.queue) return undefined;
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

  private releaser(): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.running--;
      this.pump();
    };
  }

  /** Hands freed slots to waiters (also after `concurrency` was raised by a redeploy). */
  pump(): void {
    while (this.running < this.concurrency && this.waiters.length > 0) {
      this.running++;
      this.waiters.shift()!(this.releaser());
    }
  }
}
