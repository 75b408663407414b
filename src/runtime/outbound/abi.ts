/**
 * The outbound HTTP host API, version 1 (docs/contract.md, "Outbound HTTP"): the import
 * module's name, its functions with their exact signatures, the error codes, the flags and
 * the default limits. Platform-neutral: every host (Node, the Cloudflare Worker, the Fastly
 * adapter's generator) and the contract check read the API from here.
 */

export const OUTBOUND_MODULE = 'wfn_http_v1';

/** Each function: i32 parameters only, one i32 result (the error code). */
export const OUTBOUND_FUNCTIONS = {
  send: 10,
  status: 2,
  headers: 4,
  body_read: 4,
  close: 1,
  error_message: 3,
} as const;

export type OutboundFunction = keyof typeof OUTBOUND_FUNCTIONS;

export const OUTBOUND_ERROR = {
  OK: 0,
  DENIED: 1,
  UNREACHABLE: 2,
  TIMEOUT: 3,
  TOO_LARGE: 4,
  INVALID: 5,
  BAD_HANDLE: 6,
  BUFFER_TOO_SMALL: 7,
  LIMIT: 8,
  FAILED: 9,
} as const;

export type OutboundErrorCode = (typeof OUTBOUND_ERROR)[keyof typeof OUTBOUND_ERROR];

/** `send` flags bit 0: the host follows redirects (policy checked on every hop). */
export const FOLLOW_REDIRECTS = 1;
/**
 * `send` flags bits 8-31: this call's own timeout in ms (0: none), e.g. JavaScript's
 * `AbortSignal.timeout()`; the host uses the smaller of it and `[outbound] timeout_ms`.
 */
export const TIMEOUT_SHIFT = 8;
/** Bits 1-7 of `send` flags are reserved (INVALID when set). */
export const RESERVED_FLAGS = 0xfe;
/** WHATWG fetch's limit, and the API's. */
export const MAX_REDIRECTS = 20;

/** `[outbound]` of wfn.toml after defaults: who may be called and how much. */
export interface OutboundSettings {
  /** Allowed origins, as written in wfn.toml (parsed by policy.ts). Empty: no calls at all. */
  allow: string[];
  /** Per call: connect, headers and the whole body, in ms. */
  timeoutMs: number;
  /** Largest response body a call may return, in bytes. */
  maxResponseBytes: number;
  /** Calls per invocation. */
  maxCalls: number;
}

export const DEFAULT_OUTBOUND: OutboundSettings = {
  allow: [],
  timeoutMs: 10_000,
  maxResponseBytes: 16 * 1024 * 1024,
  maxCalls: 50,
};

/** A request as the guest sent it, decoded and checked (method, URL, headers). */
export interface OutboundRequest {
  method: string;
  url: string;
  /** Lower-case names, in order; repeated names repeat. */
  headers: [string, string][];
  body: Uint8Array;
  followRedirects: boolean;
  /** The guest's own timeout for this call, when it set one (flags bits 8-31); the host takes the smaller. */
  timeoutMs?: number;
}

export interface OutboundResponse {
  status: number;
  /** Lower-case names, in order; repeated names repeat. */
  headers: [string, string][];
  body: Uint8Array;
}

export interface OutboundError {
  code: OutboundErrorCode;
  /** Names the origin and the reason; never the URL's path or query (they may hold keys). */
  message: string;
}

export type OutboundResult = { response: OutboundResponse } | { error: OutboundError };
