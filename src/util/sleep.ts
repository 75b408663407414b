/** Waits `ms`, or less when `signal` aborts (resolves either way: a poll loop then checks the signal). */
import { setTimeout as delay } from 'node:timers/promises';

export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return delay(ms, undefined, { signal }).then(
    () => undefined,
    () => undefined,
  );
}
