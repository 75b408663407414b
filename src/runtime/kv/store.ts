/**
 * The abstract store behind the key-value API, and `performOn`, which turns stores into the
 * `perform(request) -> result` the import object calls (imports.ts), the way outbound HTTP's
 * import object calls `perform` over fetch. Each host brings its stores (SQLite file, S3,
 * DynamoDB, Workers KV, Fastly KV); this file knows none of them.
 *
 * A store may answer synchronously (an embedded database on the guest's own thread) or with a
 * promise (a network store, awaited under JSPI or on another thread). It reports its failures by
 * throwing a KvStoreError (UNAVAILABLE when the service behind cannot be reached, INVALID for a
 * cursor it did not issue); anything else it throws becomes FAILED with the error's message.
 */
import { KV_ERROR, type KvErrorCode, type KvPage, type KvRequest, type KvResult } from './abi.js';
import { kvErrors } from './messages.js';

type Maybe<T> = T | Promise<T>;

export interface KvStore {
  /** The value, or undefined when absent or expired. */
  get(key: string): Maybe<Uint8Array | undefined>;
  /** `ttlSeconds` 0: no expiry. Overwrites. */
  set(key: string, value: Uint8Array, ttlSeconds: number): Maybe<void>;
  /** Absent keys are fine. */
  delete(key: string): Maybe<void>;
  /** Keys starting with `prefix`, in byte order, after the page `cursor` ends (first page when undefined); unexpired only. */
  list(prefix: string, cursor: string | undefined, limit: number): Maybe<KvPage>;
}

/** A store's own failure, with the API's code for it. */
export class KvStoreError extends Error {
  constructor(readonly code: KvErrorCode, message: string) {
    super(message);
    this.name = 'KvStoreError';
  }
}

function isPromise<T>(value: Maybe<T>): value is Promise<T> {
  return typeof (value as Promise<T>)?.then === 'function';
}

function failure(store: string, error: unknown): KvResult {
  if (error instanceof KvStoreError) {
    if (error.code === KV_ERROR.UNAVAILABLE) return { error: kvErrors.unavailable(store, error.message) };
    return { error: { code: error.code, message: `kv store "${store}": ${error.message}` } };
  }
  return { error: kvErrors.failed(store, error instanceof Error ? error.message : String(error)) };
}

/** The request on the store `storeOf(name)` returns; sync when the store is. Never throws. */
export function performOn(storeOf: (name: string) => KvStore, request: KvRequest): KvResult | Promise<KvResult> {
  let pending: Maybe<KvResult>;
  try {
    const store = storeOf(request.store);
    switch (request.op) {
      case 'get': {
        const got = store.get(request.key);
        pending = isPromise(got) ? got.then((value) => (value ? { value } : {})) : got ? { value: got } : {};
        break;
      }
      case 'set': {
        const done = store.set(request.key, request.value, request.ttlSeconds);
        pending = isPromise(done) ? done.then(() => ({})) : {};
        break;
      }
      case 'delete': {
        const done = store.delete(request.key);
        pending = isPromise(done) ? done.then(() => ({})) : {};
        break;
      }
      case 'list': {
        const page = store.list(request.prefix, request.cursor, request.limit);
        pending = isPromise(page) ? page.then((p) => ({ page: p })) : { page };
        break;
      }
    }
  } catch (error) {
    return failure(request.store, error);
  }
  return isPromise(pending) ? pending.catch((error: unknown) => failure(request.store, error)) : pending;
}

/** The smallest string greater than every string starting with `prefix`, in UTF-8 byte order (undefined: none). */
export function prefixEnd(prefix: string): string | undefined {
  // UTF-8 byte order is code point order; bumping the last code point bounds the range.
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/** Compares strings by their UTF-8 bytes (JavaScript's `<` compares UTF-16 units, which differs above U+FFFF). */
export function compareUtf8(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}
