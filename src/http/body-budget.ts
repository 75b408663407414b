/**
 * The bytes of request bodies a server holds in memory at once, bounded in total and per
 * connection. Bodies are buffered whole (a function reads its stdin synchronously), so without
 * a bound, unfinished uploads that need no token could take all memory (30 held 60 MiB uploads
 * once took `wfn serve` from 0.2 to 2 GB). A request takes bytes as they arrive and gives them
 * all back when it is answered; one that would go over the bound is shed with a 503 first.
 */

/** Over the total or per-connection bound: shed the request (503, Retry-After), nothing more is read. */
export class BodyBudgetError extends Error {
  constructor(readonly scope: 'total' | 'connection', limit: number) {
    super(`request bodies in memory would exceed the ${scope === 'total' ? 'server' : 'connection'}'s bound of ${limit} bytes`);
  }
}

/** The bytes one request's body holds; `release` gives them all back (idempotent). */
export interface BodyLease {
  /** Takes `bytes` more, or throws BodyBudgetError (taking nothing). */
  take(bytes: number): void;
  /** Throws BodyBudgetError when `bytes` more would not fit right now (takes nothing). */
  check(bytes: number): void;
  release(): void;
}

export class BodyBudget {
  private used = 0;
  private readonly byConnection = new WeakMap<object, number>();

  constructor(
    readonly totalBytes: number,
    readonly perConnectionBytes: number,
  ) {}

  /** Bytes held right now (for metrics and tests). */
  get inUse(): number {
    return this.used;
  }

  /** A lease for a body arriving on `connection` (the socket: pipelined requests share it). */
  lease(connection: object): BodyLease {
    let held = 0;
    const check = (bytes: number) => {
      if (this.used + bytes > this.totalBytes) throw new BodyBudgetError('total', this.totalBytes);
      if ((this.byConnection.get(connection) ?? 0) + bytes > this.perConnectionBytes) throw new BodyBudgetError('connection', this.perConnectionBytes);
    };
    return {
      check,
      take: (bytes) => {
        check(bytes);
        held += bytes;
        this.used += bytes;
        this.byConnection.set(connection, (this.byConnection.get(connection) ?? 0) + bytes);
      },
      release: () => {
        if (held === 0) return;
        this.used -= held;
        this.byConnection.set(connection, (this.byConnection.get(connection) ?? 0) - held);
        held = 0;
      },
    };
  }
}
