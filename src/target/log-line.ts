/**
 * The one rendering of a `LogLine` (`wfn logs` on every target), and the bounds every log
 * reader applies to text it did not write (a function's stderr is hostile input).
 */
import type { LogLine } from './types.js';

/** Longest stderr text kept per line; longer lines are cut with a marker. */
export const MAX_LOG_TEXT = 4096;

/** Cuts `text` to MAX_LOG_TEXT characters and drops control characters (a function must not drive the reader's terminal). */
export function boundText(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u0008\u000b-\u001f\u007f\u009b]/g, '\uFFFD');
  return clean.length > MAX_LOG_TEXT ? `${clean.slice(0, MAX_LOG_TEXT)}… (${clean.length - MAX_LOG_TEXT} more characters)` : clean;
}

/** `2026-12-02T13:41:42.123Z GET /hello?x=1 200 12.3ms ok` or `2026-12-02T13:41:42.123Z stderr: text`. */
export function formatLogLine(line: LogLine): string {
  if (line.kind === 'request') {
    return `${line.time} ${line.method} ${line.path} ${line.status} ${formatDuration(line.durationMs)} ${line.outcome}`;
  }
  return `${line.time} stderr: ${line.text}`;
}

function formatDuration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)}s` : `${ms.toFixed(1)}ms`;
}

/** Checks a value parsed from a provider's answer (NDJSON, a log event) is a LogLine; undefined when it is not. */
export function asLogLine(value: unknown): LogLine | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.time !== 'string' || Number.isNaN(Date.parse(v.time))) return undefined;
  if (v.kind === 'stderr' && typeof v.text === 'string') return { kind: 'stderr', time: v.time, text: boundText(v.text) };
  if (v.kind !== 'request') return undefined;
  const outcomes = ['ok', 'error', 'timeout', 'exception'] as const;
  if (typeof v.method !== 'string' || typeof v.path !== 'string' || typeof v.status !== 'number' || typeof v.durationMs !== 'number') return undefined;
  const outcome = outcomes.find((o) => o === v.outcome) ?? 'error';
  return { kind: 'request', time: v.time, method: boundText(v.method).slice(0, 32), path: boundText(v.path), status: v.status, durationMs: v.durationMs, outcome };
}

/** A runtime outcome (src/runtime/types.ts `Outcome`) in the LogLine's four words. */
export function logOutcome(outcome: string | undefined, status: number): 'ok' | 'error' | 'timeout' | 'exception' {
  if (outcome === undefined) return status >= 500 ? 'error' : 'ok';
  if (outcome === 'ok') return 'ok';
  if (outcome === 'timeout') return 'timeout';
  if (outcome === 'trap' || outcome === 'memory') return 'exception';
  return 'error';
}
