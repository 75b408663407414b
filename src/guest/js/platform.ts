/**
 * navigator, performance and reportError. The engine's own performance object keeps the
 * clock origin of the build (the snapshot), so `now()` could be negative and `timeOrigin`
 * was not an epoch time: here the origin is the start of the request, now() counts
 * monotonic milliseconds from it and timeOrigin is that instant in Unix epoch milliseconds.
 */
import { log } from 'wfn:fn/host';
import { inspect } from './console.js';
import { utf8Encode } from './encoding.js';
import { isInitializing } from './phase.js';

const engineNow: () => number = (() => {
  const perf = (globalThis as { performance?: { now(): number } }).performance;
  return perf && typeof perf.now === 'function' ? perf.now.bind(perf) : () => Date.now();
})();

let origin = engineNow();
let epochOrigin = Date.now();

/** A request starts: the clock's origin is now. */
export function resetClock(): void {
  origin = engineNow();
  epochOrigin = Date.now();
}

class Performance {
  now(): number {
    return Math.max(0, engineNow() - origin);
  }

  get timeOrigin(): number {
    return epochOrigin;
  }

  toJSON(): { timeOrigin: number } {
    return { timeOrigin: epochOrigin };
  }

  get [Symbol.toStringTag](): string {
    return 'Performance';
  }
}

class Navigator {
  get [Symbol.toStringTag](): string {
    return 'Navigator';
  }
}
Object.defineProperties(Navigator.prototype, {
  userAgent: { value: 'wfn', enumerable: true },
  hardwareConcurrency: { value: 1, enumerable: true },
  language: { value: 'en-US', enumerable: true },
  languages: { value: Object.freeze(['en-US']), enumerable: true },
});

export const performance = new Performance();
export const navigator = new Navigator();

/** Reports an exception the way an uncaught one is reported: a line in the function's log. */
export function reportError(error: unknown): void {
  if (isInitializing()) return;
  log(utf8Encode(`Uncaught ${inspect(error)}\n`));
}
