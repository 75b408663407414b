/**
 * The error of every failed key-value call, with the message the guest reads through
 * `error_message` and the log line shows (`wfn kv: <message>`). Messages name the store and the
 * config key to change, never a value or a key's bytes (either may be a secret).
 */
import { KV_ERROR, MAX_KEY_BYTES, MAX_VALUE_BYTES, type KvError } from './abi.js';

export const kvErrors = {
  denied: (store: string): KvError => ({
    code: KV_ERROR.DENIED,
    message: `kv store ${JSON.stringify(store.slice(0, 80))} denied: not in [kv] stores of wfn.toml`,
  }),
  invalid: (detail: string): KvError => ({ code: KV_ERROR.INVALID, message: `kv call invalid: ${detail}` }),
  tooLarge: (store: string, bytes: number): KvError => ({
    code: KV_ERROR.TOO_LARGE,
    message: `kv store "${store}": a value of ${bytes} bytes is larger than the limit of ${MAX_VALUE_BYTES} bytes (25 MiB)`,
  }),
  badHandle: (kind: 'store' | 'value', handle: number): KvError => ({
    code: KV_ERROR.BAD_HANDLE,
    message: `kv ${kind} handle ${handle >>> 0} is not open`,
  }),
  limit: (detail: string): KvError => ({ code: KV_ERROR.LIMIT, message: `kv call refused: ${detail}` }),
  unavailable: (store: string, detail: string): KvError => ({
    code: KV_ERROR.UNAVAILABLE,
    message: `kv store "${store}" unavailable: ${detail}`,
  }),
  failed: (store: string, detail: string): KvError => ({ code: KV_ERROR.FAILED, message: `kv store "${store}" failed: ${detail}` }),
};

/** What is wrong with a key, or undefined when it is valid (the bytes as the guest gave them). */
export function keyProblem(bytes: Uint8Array, key: string | undefined): string | undefined {
  if (bytes.length === 0) return 'the key is empty';
  if (bytes.length > MAX_KEY_BYTES) return `the key is ${bytes.length} bytes, longer than ${MAX_KEY_BYTES}`;
  if (key === undefined) return 'the key is not UTF-8';
  if (key.includes('\n') || key.includes('\0')) return 'the key contains a newline or NUL';
  if (key === '.' || key === '..') return `the key "${key}" is not allowed`;
  return undefined;
}

/** The log line of a failed call (one per call, in the function's log). */
export function kvLogLine(error: KvError): string {
  return `wfn kv: ${error.message}`;
}
