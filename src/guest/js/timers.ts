/**
 * setTimeout/setInterval for code that uses them to defer work or yield (QuickJS has no
 * timers). A function cannot sleep, so time is virtual: timers fire in due-time order, each
 * once pending promise work has had its turn, without waiting for the wall clock. When the
 * request is over (response written, waitUntil work done) pending timers are dropped, as a
 * Worker's are.
 */

interface Timer {
  id: number;
  due: number;
  seq: number;
  fn: (...args: unknown[]) => void;
  args: unknown[];
  interval: number | null;
}

/** Microtask turns given to promise work before the next timer fires. */
const YIELDS_BEFORE_TIMER = 32;

const timers = new Map<number, Timer>();
let nextId = 1;
let seq = 0;
let virtualNow = 0;
let driving = false;
let stopped = false;

function schedule(fn: unknown, delay: unknown, args: unknown[], interval: boolean): number {
  if (typeof fn !== 'function') throw new TypeError('setTimeout/setInterval: the callback must be a function');
  const ms = Math.max(0, Number(delay) || 0);
  const id = nextId++;
  timers.set(id, { id, due: virtualNow + ms, seq: seq++, fn: fn as Timer['fn'], args, interval: interval ? Math.max(1, ms) : null });
  if (!driving && !stopped) void drive();
  return id;
}

function earliest(): Timer | undefined {
  let best: Timer | undefined;
  for (const t of timers.values()) if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
  return best;
}

/** Runs timers one by one, each after pending promise reactions had their turns. */
async function drive(): Promise<void> {
  driving = true;
  try {
    for (;;) {
      for (let i = 0; i < YIELDS_BEFORE_TIMER; i++) await undefined;
      const t = stopped ? undefined : earliest();
      if (!t) return;
      virtualNow = Math.max(virtualNow, t.due);
      if (t.interval === null) timers.delete(t.id);
      else t.due = virtualNow + t.interval;
      try {
        t.fn(...t.args);
      } catch (error) {
        reportTimerError(error);
      }
    }
  } finally {
    driving = false;
  }
}

let reportTimerError: (error: unknown) => void = () => {};

/** Where an exception thrown by a timer callback is reported (the log). */
export function onTimerError(report: (error: unknown) => void): void {
  reportTimerError = report;
}

/** The request is over: pending timers never fire. */
export function stopTimers(): void {
  stopped = true;
  timers.clear();
}

export function setTimeout(fn: unknown, delay?: unknown, ...args: unknown[]): number {
  return schedule(fn, delay, args, false);
}

export function setInterval(fn: unknown, delay?: unknown, ...args: unknown[]): number {
  return schedule(fn, delay, args, true);
}

export function clearTimeout(id: unknown): void {
  timers.delete(Number(id));
}

export const clearInterval = clearTimeout;
