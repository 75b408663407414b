/** An HTTP request as every target sees it, before it becomes CGI. */
export interface HttpRequest {
  method: string;
  /** Absolute URL (scheme://host[:port]/path?query). */
  url: string;
  /** Header name/value pairs in arrival order; repeated names repeat. */
  headers: [string, string][];
  body: Uint8Array;
  remoteAddr?: string;
}

/** What one invocation may use (wfn.toml [limits], --memory, --timeout). */
export interface Limits {
  /** Memory cap in MiB. */
  memoryMiB: number;
  /** Wall-clock timeout per request in ms. */
  timeoutMs: number;
}

/** Where and how the function is mounted. */
export interface FunctionContext {
  /** Route prefix the function answers below: "/" for a single function, "/<name>" on wfn serve. */
  route: string;
  /** Configured variables (built-in CGI variables win over these). */
  env: Record<string, string>;
}

export interface HttpResponse {
  status: number;
  /** Lower-case header names, in the order the function wrote them; repeated names kept. */
  headers: [string, string][];
  body: Uint8Array;
  /**
   * The answer to a HEAD: the Content-Length the function wrote without a body (the size a GET
   * would send, RFC 9110 8.6). Hosts send it instead of the empty body's 0.
   */
  headLength?: number;
}

/**
 * How an invocation ended: ok, the reason for a 5xx, `bad-request` (a 400: the client's fault,
 * the function never ran) or `abandoned` (499: the client went away; the request was dropped or its run stopped).
 */
export type Outcome = 'ok' | 'trap' | 'exit' | 'malformed' | 'timeout' | 'memory' | 'busy' | 'bad-request' | 'abandoned';

export interface InvokeTimings {
  /** Fresh instance from the compiled module, µs. */
  instantiateUs: number;
  /** `_start` until it returned or exited, µs. */
  runUs: number;
  /**
   * Off-thread hosts: the round trip through the worker pool minus the worker's own time, µs
   * (both message transits and the thread wake-ups: the hand-off cost). Absent in-process.
   */
  handoffUs?: number;
}

export interface InvokeResult {
  response: HttpResponse;
  stderr: Uint8Array;
  outcome: Outcome;
  /** Why it failed, for the log (never sent to the client). */
  reason?: string;
  timings: InvokeTimings;
}
