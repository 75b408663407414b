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

  /** A slot (immediately or after waiting), or undefined when running and queue are full. */
  acquire(): Promise<Release> | undefined {
    if (this.running < this.concurrency) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiters.length >= this.queue) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
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
