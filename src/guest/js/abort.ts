/**
 * AbortController and AbortSignal, as small as fetch() needs (QuickJS has neither). A
 * function cannot wait on the wall clock (timers are virtual, timers.ts), so a timeout
 * signal keeps its deadline and turns aborted when the clock passes it; fetch() hands the
 * time left to the host as the call's own timeout, since only the host can stop a call
 * that blocks the function.
 */

/** DOMException's name/message shape (AbortError, TimeoutError); QuickJS has no DOMException. */
export class DOMException extends Error {
  constructor(message = '', name = 'Error') {
    super(message);
    Object.defineProperty(this, 'name', { value: name, configurable: true, writable: true });
  }
}

type Listener = (event: { type: string; target: AbortSignal }) => void;

export class AbortSignal {
  #aborted = false;
  #reason: unknown = undefined;
  #deadline = Infinity;
  #listeners: Listener[] = [];
  onabort: Listener | null = null;

  /** @internal Aborts now (the controller's abort, or a passed deadline). */
  static abortWith(signal: AbortSignal, reason: unknown): void {
    if (signal.#aborted) return;
    signal.#aborted = true;
    signal.#reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    const event = { type: 'abort', target: signal };
    for (const listener of [...signal.#listeners]) listener(event);
    signal.onabort?.(event);
  }

  /** @internal Milliseconds until a timeout signal aborts; Infinity when it has no deadline. */
  static remainingMs(signal: AbortSignal): number {
    return signal.#deadline === Infinity ? Infinity : Math.max(0, signal.#deadline - Date.now());
  }

  #checkDeadline(): void {
    if (!this.#aborted && Date.now() >= this.#deadline) {
      AbortSignal.abortWith(this, new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
    }
  }

  get aborted(): boolean {
    this.#checkDeadline();
    return this.#aborted;
  }

  get reason(): unknown {
    this.#checkDeadline();
    return this.#reason;
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.#reason;
  }

  addEventListener(type: string, listener: Listener): void {
    if (type === 'abort' && typeof listener === 'function') this.#listeners.push(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    if (type === 'abort') this.#listeners = this.#listeners.filter((l) => l !== listener);
  }

  static abort(reason?: unknown): AbortSignal {
    const signal = new AbortSignal();
    AbortSignal.abortWith(signal, reason);
    return signal;
  }

  static timeout(ms: number): AbortSignal {
    const delay = Number(ms);
    if (!Number.isFinite(delay) || delay < 0) throw new TypeError(`AbortSignal.timeout: ${ms} is not a valid number of milliseconds`);
    const signal = new AbortSignal();
    signal.#deadline = Date.now() + delay;
    return signal;
  }

  static any(signals: Iterable<AbortSignal>): AbortSignal {
    const combined = new AbortSignal();
    for (const signal of signals) {
      if (signal.aborted) {
        AbortSignal.abortWith(combined, signal.reason);
        return combined;
      }
      combined.#deadline = Math.min(combined.#deadline, signal.#deadline);
      signal.addEventListener('abort', () => AbortSignal.abortWith(combined, signal.reason));
    }
    return combined;
  }

  get [Symbol.toStringTag](): string {
    return 'AbortSignal';
  }
}

export class AbortController {
  readonly signal = new AbortSignal();

  abort(reason?: unknown): void {
    AbortSignal.abortWith(this.signal, reason);
  }

  get [Symbol.toStringTag](): string {
    return 'AbortController';
  }
}
