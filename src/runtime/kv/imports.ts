/**
 * The `wfn_kv_v1` import object over a host's `perform(request) -> result`: everything of the
 * API except the store. It reads and checks the guest's arguments (bounds, store names against
 * `[kv] stores`, keys, value sizes, cursors, the per-invocation operation limit), keeps the store
 * and value handles and writes results back into the guest's memory. Errors are codes, never
 * traps; every failed call writes one `wfn kv: <message>` line to the function's log (a miss, a
 * `get` answering NOT_FOUND, is an answer, not a failure, and is not logged). One KvHost per
 * invocation, like WasiHost.
 *
 * `perform` may block (Node: an embedded store on the guest's thread, or Atomics.wait while
 * another thread calls a network store) or return a promise (a JSPI host wraps get, set, delete
 * and list in WebAssembly.Suspending: `KV_SUSPENDING`); those functions then return a promise too.
 */
import {
  KV_ERROR, KV_MODULE, MAX_CURSOR_BYTES, MAX_LIST_LIMIT, MAX_OPEN_VALUE_BYTES, MAX_OPERATIONS, MAX_VALUE_BYTES,
  type KvError, type KvRequest, type KvResult, type KvSettings,
} from './abi.js';
import { keyProblem, kvErrors, kvLogLine } from './messages.js';

export interface KvHostOptions {
  settings: KvSettings;
  perform(request: KvRequest): KvResult | Promise<KvResult>;
  /** One line per failed call (the function's log). */
  log(line: string): void;
}

/** The functions that reach the store: the ones a JSPI host wraps in WebAssembly.Suspending. */
export const KV_SUSPENDING = ['get', 'set', 'delete', 'list'] as const;

interface OpenValue {
  bytes: Uint8Array;
  offset: number;
}

class OutOfBounds extends Error {}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

type Fn = (...args: number[]) => number | Promise<number>;

function decode(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T>)?.then === 'function';
}

export class KvHost {
  private memory: WebAssembly.Memory | undefined;
  private readonly allowed: Set<string>;
  /** Store handle -> store name; a store opened twice gets one handle. */
  private readonly stores = new Map<number, string>();
  private readonly values = new Map<number, OpenValue>();
  private nextStore = 1;
  private nextValue = 1;
  private openBytes = 0;
  private operations = 0;
  private lastError = '';
  readonly imports: { [KV_MODULE]: Record<string, Fn> };

  constructor(private readonly options: KvHostOptions) {
    this.allowed = new Set(options.settings.stores);
    this.imports = {
      [KV_MODULE]: {
        open: (namePtr, nameLen, out) => this.guard(() => this.open(namePtr, nameLen, out)),
        get: (store, keyPtr, keyLen, valueOut, lenOut) => this.guard(() => this.get(store, keyPtr, keyLen, valueOut, lenOut)),
        read: (value, ptr, len, out) => this.guard(() => this.read(value, ptr, len, out)),
        close: (value) => this.guard(() => this.closeValue(value)),
        set: (store, keyPtr, keyLen, valuePtr, valueLen, ttl) => this.guard(() => this.set(store, keyPtr, keyLen, valuePtr, valueLen, ttl)),
        delete: (store, keyPtr, keyLen) => this.guard(() => this.delete(store, keyPtr, keyLen)),
        list: (...a) => this.guard(() => this.list(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7])),
        error_message: (ptr, len, out) => this.guard(() => this.errorMessage(ptr, len, out)),
      },
    };
  }

  bind(memory: WebAssembly.Memory): void {
    this.memory = memory;
  }

  /** Frees every value still open (the invocation ended). */
  close(): void {
    this.values.clear();
    this.openBytes = 0;
  }

  /** Store operations made so far in this invocation. */
  get operationCount(): number {
    return this.operations;
  }

  private bytes(): Uint8Array {
    if (!this.memory) throw new Error('KvHost: memory not bound (call bind() after instantiation)');
    return new Uint8Array(this.memory.buffer);
  }

  private slice(ptr: number, len: number): Uint8Array {
    const mem = this.bytes();
    const start = ptr >>> 0;
    const end = start + (len >>> 0);
    if (end > mem.length) throw new OutOfBounds();
    return mem.subarray(start, end);
  }

  private writeU32(ptr: number, value: number): number {
    const at = this.slice(ptr, 4);
    new DataView(at.buffer, at.byteOffset, 4).setUint32(0, value, true);
    return KV_ERROR.OK;
  }

  /** Out-of-bounds pointers become INVALID, never a trap. */
  private guard(call: () => number | Promise<number>): number | Promise<number> {
    try {
      return call();
    } catch (error) {
      if (error instanceof OutOfBounds) return this.fail(kvErrors.invalid('a pointer or length is outside the module\'s memory'));
      throw error;
    }
  }

  private fail(error: KvError): number {
    this.lastError = error.message;
    this.options.log(kvLogLine(error));
    return error.code;
  }

  private storeName(handle: number): string | KvError {
    return this.stores.get(handle >>> 0) ?? kvErrors.badHandle('store', handle);
  }

  /** Counts one store operation; the error past the limit. */
  private count(): KvError | undefined {
    if (++this.operations > MAX_OPERATIONS) return kvErrors.limit(`more than ${MAX_OPERATIONS} operations in one invocation`);
    return undefined;
  }

  private key(ptr: number, len: number): string | KvError {
    const bytes = this.slice(ptr, len);
    const key = decode(bytes);
    const problem = keyProblem(bytes, key);
    return problem ? kvErrors.invalid(problem) : key!;
  }

  private open(namePtr: number, nameLen: number, out: number): number {
    this.slice(out, 4);
    const name = decode(this.slice(namePtr, Math.min(nameLen >>> 0, 256)));
    if ((nameLen >>> 0) > 256 || name === undefined) return this.fail(kvErrors.invalid('the store name is not a name (UTF-8, at most 64 characters)'));
    if (!this.allowed.has(name)) return this.fail(kvErrors.denied(name));
    for (const [handle, open] of this.stores) if (open === name) return this.writeU32(out, handle);
    const handle = this.nextStore++;
    this.stores.set(handle, name);
    return this.writeU32(out, handle);
  }

  /** Runs `request` and finishes with `done` (sync or async as `perform` is); a rejected promise is FAILED. */
  private perform(request: KvRequest, done: (result: { value?: Uint8Array; page?: { keys: string[]; cursor?: string } }) => number): number | Promise<number> {
    const finish = (result: KvResult): number => ('error' in result ? this.fail(result.error) : done(result));
    let result: KvResult | Promise<KvResult>;
    try {
      result = this.options.perform(request);
    } catch (error) {
      return this.fail(kvErrors.failed(request.store, error instanceof Error ? error.message : String(error)));
    }
    return isPromise(result)
      ? result.then(finish, (error: unknown) => this.fail(kvErrors.failed(request.store, error instanceof Error ? error.message : String(error))))
      : finish(result);
  }

  /** A new value handle over `bytes`, its handle and length written out; LIMIT past the open-bytes budget. */
  private giveValue(bytes: Uint8Array, valueOut: number, lenOut: number): number {
    if (this.openBytes + bytes.length > MAX_OPEN_VALUE_BYTES) {
      return this.fail(kvErrors.limit(`the values open in this invocation would exceed ${MAX_OPEN_VALUE_BYTES} bytes: close the ones read`));
    }
    const handle = this.nextValue++;
    this.values.set(handle, { bytes, offset: 0 });
    this.openBytes += bytes.length;
    this.writeU32(valueOut, handle);
    return this.writeU32(lenOut, bytes.length);
  }

  private get(storeHandle: number, keyPtr: number, keyLen: number, valueOut: number, lenOut: number): number | Promise<number> {
    this.slice(valueOut, 4);
    this.slice(lenOut, 4);
    const store = this.storeName(storeHandle);
    if (typeof store !== 'string') return this.fail(store);
    const key = this.key(keyPtr, keyLen);
    if (typeof key !== 'string') return this.fail(key);
    const limited = this.count();
    if (limited) return this.fail(limited);
    return this.perform({ op: 'get', store, key }, ({ value }) => {
      if (!value) {
        this.lastError = `kv store "${store}": key not found`;
        return KV_ERROR.NOT_FOUND;
      }
      return this.giveValue(value, valueOut, lenOut);
    });
  }

  private read(handle: number, ptr: number, len: number, out: number): number {
    const target = this.slice(ptr, len);
    this.slice(out, 4);
    const value = this.values.get(handle >>> 0);
    if (!value) return this.fail(kvErrors.badHandle('value', handle));
    const chunk = value.bytes.subarray(value.offset, value.offset + target.length);
    target.set(chunk);
    value.offset += chunk.length;
    return this.writeU32(out, chunk.length);
  }

  private closeValue(handle: number): number {
    const value = this.values.get(handle >>> 0);
    if (!value) return this.fail(kvErrors.badHandle('value', handle));
    this.values.delete(handle >>> 0);
    this.openBytes -= value.bytes.length;
    return KV_ERROR.OK;
  }

  private set(storeHandle: number, keyPtr: number, keyLen: number, valuePtr: number, valueLen: number, ttl: number): number | Promise<number> {
    const store = this.storeName(storeHandle);
    if (typeof store !== 'string') return this.fail(store);
    const key = this.key(keyPtr, keyLen);
    if (typeof key !== 'string') return this.fail(key);
    if ((valueLen >>> 0) > MAX_VALUE_BYTES) return this.fail(kvErrors.tooLarge(store, valueLen >>> 0));
    const ttlSeconds = ttl >>> 0;
    // Copied: the store may keep it, transfer it to another thread, or read it after the guest reuses the memory.
    const value = this.slice(valuePtr, valueLen).slice();
    const limited = this.count();
    if (limited) return this.fail(limited);
    return this.perform({ op: 'set', store, key, value, ttlSeconds }, () => KV_ERROR.OK);
  }

  private delete(storeHandle: number, keyPtr: number, keyLen: number): number | Promise<number> {
    const store = this.storeName(storeHandle);
    if (typeof store !== 'string') return this.fail(store);
    const key = this.key(keyPtr, keyLen);
    if (typeof key !== 'string') return this.fail(key);
    const limited = this.count();
    if (limited) return this.fail(limited);
    return this.perform({ op: 'delete', store, key }, () => KV_ERROR.OK);
  }

  private list(
    storeHandle: number, prefixPtr: number, prefixLen: number, cursorPtr: number, cursorLen: number, limit: number, valueOut: number, lenOut: number,
  ): number | Promise<number> {
    this.slice(valueOut, 4);
    this.slice(lenOut, 4);
    const store = this.storeName(storeHandle);
    if (typeof store !== 'string') return this.fail(store);
    const prefixBytes = this.slice(prefixPtr, prefixLen);
    const prefix = decode(prefixBytes);
    if (prefixBytes.length > 0) {
      // A prefix follows the key rules, except that it may be "." or "..".
      const problem = prefix === '.' || prefix === '..' ? undefined : keyProblem(prefixBytes, prefix);
      if (problem) return this.fail(kvErrors.invalid(problem.replace('the key', 'the prefix')));
    }
    let cursor: string | undefined;
    if ((cursorLen >>> 0) > 0) {
      const bytes = this.slice(cursorPtr, cursorLen);
      cursor = decode(bytes);
      if (bytes.length > MAX_CURSOR_BYTES || cursor === undefined || cursor.includes('\n')) return this.fail(kvErrors.invalid('the cursor is not one this store issued'));
    }
    const pageSize = limit >>> 0;
    if (pageSize > MAX_LIST_LIMIT) return this.fail(kvErrors.invalid(`the list limit ${pageSize} is larger than ${MAX_LIST_LIMIT}`));
    const limited = this.count();
    if (limited) return this.fail(limited);
    return this.perform({ op: 'list', store, prefix: prefix ?? '', cursor, limit: pageSize === 0 ? MAX_LIST_LIMIT : pageSize }, ({ page }) => {
      const keys = page?.keys ?? [];
      const next = page?.cursor ?? '';
      if (next.includes('\n')) return this.fail(kvErrors.failed(store, 'the store returned a cursor with a newline'));
      const text = `${next}\n${keys.map((k) => `${k}\n`).join('')}`;
      return this.giveValue(utf8Encoder.encode(text), valueOut, lenOut);
    });
  }

  private errorMessage(ptr: number, len: number, out: number): number {
    const data = utf8Encoder.encode(this.lastError);
    this.slice(out, 4);
    if (data.length > len >>> 0) {
      this.writeU32(out, data.length);
      return KV_ERROR.BUFFER_TOO_SMALL;
    }
    this.slice(ptr, len).set(data);
    return this.writeU32(out, data.length);
  }
}
