/**
 * The request line the Lambda handler prints to its log (stdout -> CloudWatch Logs), one per
 * invocation, so `wfn logs --target lambda` can show it in the common format. Imports nothing:
 * it is bundled into the handler.
 */

/** What starts the handler's request line: `wfn-request {"method":...}`. */
export const REQUEST_MARKER = 'wfn-request ';

export interface RequestRecord {
  method: string;
  /** Path and query, as the client sent them. */
  path: string;
  status: number;
  durationMs: number;
  /** The runtime's outcome (ok, trap, timeout, memory, malformed...). */
  outcome: string;
}

export function requestLogText(record: RequestRecord): string {
  return `${REQUEST_MARKER}${JSON.stringify(record)}`;
}
