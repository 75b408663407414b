/**
 * What the Worker shim tells the emulator's front proxy about each invocation, in response
 * headers the proxy strips before answering. Only sent when the emulator's workerd config
 * sets the EMULATOR_BINDING text binding to "1" (never on Cloudflare). Platform-neutral.
 */
import type { InvokeResult, Outcome } from '../../src/runtime/types.js';

export const EMULATOR_BINDING = 'WFN_EMULATOR';
export const TIMINGS_HEADER = 'x-wfn-timings';
export const REASON_HEADER = 'x-wfn-reason';

/** `i=<instantiate µs>;r=<run µs>;o=<outcome>` and the URI-encoded reason. */
export function encodeEmulatorHeaders(result: Pick<InvokeResult, 'timings' | 'outcome' | 'reason'>): [string, string][] {
  const out: [string, string][] = [[TIMINGS_HEADER, `i=${Math.round(result.timings.instantiateUs)};r=${Math.round(result.timings.runUs)};o=${result.outcome}`]];
  if (result.reason) out.push([REASON_HEADER, encodeURIComponent(result.reason)]);
  return out;
}

export interface EmulatorInfo {
  timings: { instantiateUs: number; runUs: number };
  outcome: Outcome;
  reason?: string;
}

export function decodeEmulatorHeaders(timings: string | undefined, reason: string | undefined): EmulatorInfo | undefined {
  if (!timings) return undefined;
  const fields = new Map(timings.split(';').map((kv) => kv.split('=', 2) as [string, string]));
  let decoded: string | undefined;
  try {
    decoded = reason ? decodeURIComponent(reason) : undefined;
  } catch {
    decoded = reason;
  }
  return {
    timings: { instantiateUs: Number(fields.get('i') ?? 0), runUs: Number(fields.get('r') ?? 0) },
    outcome: (fields.get('o') ?? 'ok') as Outcome,
    reason: decoded,
  };
}
