/** The access-log line of `wfn dev`, `wfn serve` and every emulator: method, path, status, size, timings, outcome. */
import type { InvokeResult } from '../runtime/types.js';

/** One line per request, the same for `wfn dev`, `wfn serve` and every emulator. */
export function accessLogLine(method: string, path: string, result: Pick<InvokeResult, 'response' | 'timings' | 'outcome' | 'reason'>, totalMs: number): string {
  const t = result.timings;
  const base = `${method} ${path} ${result.response.status} ${result.response.body.length}B inst=${Math.round(t.instantiateUs)}µs run=${(t.runUs / 1000).toFixed(2)}ms total=${totalMs.toFixed(2)}ms`;
  return result.outcome === 'ok' ? base : `${base} ${result.outcome}: ${result.reason ?? ''}`;
}
