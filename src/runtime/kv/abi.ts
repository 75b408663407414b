/**
 * The key-value host API, version 1 (docs/contract.md, "Key-value (`wfn_kv_v1`)"): the import
 * module's name, its functions with their exact signatures, the error codes and the limits
 * (Workers KV's, so a function behaves the same on every target). Platform-neutral: every host
 * (Node, the Lambda handler, the Cloudflare Worker, the Fastly adapter) and the contract check
 * read the API from here.
 */

export const KV_MODULE = 'wfn_kv_v1';

/** Each function: i32 parameters only, one i32 result (the error code). */
export const KV_FUNCTIONS = {
  open: 3,
  get: 5,
  read: 4,
  close: 1,
  set: 6,
  delete: 3,
  list: 8,
  error_message: 3,
} as const;

export type KvFunction = keyof typeof KV_FUNCTIONS;

export const KV_ERROR = {
  OK: 0,
  NOT_FOUND: 1,
  DENIED: 2,
  INVALID: 3,
  TOO_LARGE: 4,
  BAD_HANDLE: 5,
  BUFFER_TOO_SMALL: 6,
  LIMIT: 7,
  UNAVAILABLE: 8,
  FAILED: 9,
} as const;

export type KvErrorCode = (typeof KV_ERROR)[keyof typeof KV_ERROR];

/** Keys: 1..512 bytes of UTF-8 (Workers KV's limit). */
export const MAX_KEY_BYTES = 512;
/** Values: up to 25 MiB (Workers KV's limit). */
export const MAX_VALUE_BYTES = 25 * 1024 * 1024;
/** Store operations (get, set, delete, list) per invocation (Workers KV's per-invocation limit). */
export const MAX_OPERATIONS = 1000;
/** Keys per `list` page; `limit` 0 means this. */
export const MAX_LIST_LIMIT = 1000;
/** A cursor the guest hands back: at most this many bytes, UTF-8, no newline. */
export const MAX_CURSOR_BYTES = 1024;
/**
 * Bytes the host keeps for value handles the guest has not closed yet, together: a guest that
 * gets without closing cannot make the host hold 1000 x 25 MiB. Past it, `get`/`list` is LIMIT.
 */
export const MAX_OPEN_VALUE_BYTES = 64 * 1024 * 1024;
/** Store names in `[kv] stores` (they are JavaScript binding names too: `env.<name>`). */
export const STORE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** Workers KV's smallest `expirationTtl`; the local hosts honour any TTL >= 1. */
export const CLOUDFLARE_MIN_TTL_SECONDS = 60;

/** `[kv]` of wfn.toml after defaults: the stores a function may open. */
export interface KvSettings {
  /** Store names, as written in wfn.toml. Empty: every `open` is DENIED. */
  stores: string[];
}

export const DEFAULT_KV: KvSettings = { stores: [] };

/** One store operation, checked by the import object (store named in [kv] stores, key valid, value within limits). */
export type KvRequest =
  | { op: 'get'; store: string; key: string }
  | { op: 'set'; store: string; key: string; value: Uint8Array; ttlSeconds: number }
  | { op: 'delete'; store: string; key: string }
  /** `cursor` undefined: the first page. `limit` 1..MAX_LIST_LIMIT. */
  | { op: 'list'; store: string; prefix: string; cursor?: string; limit: number };

/** One page of `list`: keys in byte order; `cursor` absent on the last page (it never contains a newline). */
export interface KvPage {
  keys: string[];
  cursor?: string;
}

export interface KvError {
  code: KvErrorCode;
  /** Names the store and the reason; never the value (nor the key's bytes: keys may be secrets too). */
  message: string;
}

/** get: `value` absent = not found (or expired). set/delete: `{}`. list: `page`. */
export type KvResult = { value?: Uint8Array; page?: KvPage } | { error: KvError };
