/**
 * The error of every failed outbound call, with the message the guest reads through
 * `error_message` and the log line shows. Messages name the origin and the config key to
 * change, never the URL's path or query (they may hold keys).
 */
import { OUTBOUND_ERROR, type OutboundError } from './abi.js';

export const outboundErrors = {
  denied: (origin: string): OutboundError => ({
    code: OUTBOUND_ERROR.DENIED,
    message: `outbound request to ${origin} denied: not in [outbound] allow of wfn.toml`,
  }),
  redirectDenied: (from: string, to: string): OutboundError => ({
    code: OUTBOUND_ERROR.DENIED,
    message: `outbound request to ${from} redirected to ${to}, denied: not in [outbound] allow of wfn.toml`,
  }),
  unreachable: (origin: string, cause: string): OutboundError => ({
    code: OUTBOUND_ERROR.UNREACHABLE,
    message: `outbound request to ${origin} failed: ${cause}`,
  }),
  /** `own`: the function's timeout for this call was the shorter one. */
  timeout: (origin: string, ms: number, own = false): OutboundError => ({
    code: OUTBOUND_ERROR.TIMEOUT,
    message: `outbound request to ${origin} timed out after ${ms} ms (${own ? 'the timeout the function set for this call' : '[outbound] timeout_ms of wfn.toml'})`,
  }),
  tooLarge: (origin: string, max: number): OutboundError => ({
    code: OUTBOUND_ERROR.TOO_LARGE,
    message: `outbound response from ${origin} is larger than ${max} bytes ([outbound] max_response_bytes of wfn.toml)`,
  }),
  limit: (max: number): OutboundError => ({
    code: OUTBOUND_ERROR.LIMIT,
    message: `outbound request refused: more than ${max} calls in one invocation ([outbound] max_calls of wfn.toml)`,
  }),
  invalid: (detail: string): OutboundError => ({
    code: OUTBOUND_ERROR.INVALID,
    message: `outbound request invalid: ${detail}`,
  }),
  tooManyRedirects: (origin: string, max: number): OutboundError => ({
    code: OUTBOUND_ERROR.FAILED,
    message: `outbound request to ${origin} failed: more than ${max} redirects`,
  }),
  failed: (origin: string, detail: string): OutboundError => ({
    code: OUTBOUND_ERROR.FAILED,
    message: `outbound request to ${origin} failed: ${detail}`,
  }),
};

/** The log line of a failed call (one per call, in the function's log). */
export function outboundLogLine(error: OutboundError): string {
  return `wfn outbound: ${error.message}`;
}
