/**
 * Key-value bindings shaped like Workers KV (`env.<store>.get/put/delete/list`) on wfn's
 * key-value API (wfn_kv_v1, through the world's kv-* host functions), so code written for
 * Workers runs unchanged. The stores are the ones named in `[kv] stores` of wfn.toml: the
 * toolchain imports this module only then and calls `defineStores` with their names. Each call
 * blocks the function until the store answers, so the returned promise is settled already.
 */
import { kvDelete, kvErrorMessage, kvGet, kvList, kvOpen, kvSet, log } from 'wfn:fn/host';
import { toBytes, utf8Decode, utf8Encode } from './encoding.js';
import { hooks, leftOut } from './hooks.js';

const NOT_FOUND = 1;
const DENIED = 2;
const INVALID = 3;
const MAX_LIST_LIMIT = 1000;
const TYPES = new Set(['text', 'json', 'arrayBuffer', 'stream']);

/** The host's error as an exception: TypeError for bad arguments (as Workers KV throws), Error otherwise. */
function failure(thrown: unknown, store: string): unknown {
  const code = (thrown as { payload?: unknown } | null)?.payload ?? thrown;
  if (typeof code !== 'number') return thrown;
  let message = '';
  try {
    message = kvErrorMessage();
  } catch {
    // keep the fallback below
  }
  if (!message && code === DENIED) {
    message = `kv store "${store}" denied: not in [kv] stores of wfn.toml`;
    log(utf8Encode(`wfn kv: ${message}\n`));
  }
  const error = code === INVALID ? new TypeError(message || `kv error ${code}`) : new Error(message || `kv error ${code}`);
  (error as { cause?: unknown }).cause = { code, message };
  return error;
}

function keyString(key: unknown): string {
  // Workers KV turns the key into a string the same way.
  return String(key);
}

type GetType = 'text' | 'json' | 'arrayBuffer' | 'stream';

export interface KVNamespaceListKey {
  name: string;
}

export interface KVNamespaceListResult {
  keys: KVNamespaceListKey[];
  list_complete: boolean;
  cursor?: string;
}

class KVNamespace {
  readonly #name: string;
  #handle: number | undefined;

  constructor(name: string) {
    this.#name = name;
  }

  /** The store handle, opened on first use in each request (handles do not outlive an invocation). */
  #store(): number {
    if (this.#handle === undefined) {
      try {
        this.#handle = kvOpen(this.#name);
      } catch (error) {
        throw failure(error, this.#name);
      }
    }
    return this.#handle;
  }

  /** Forgets the handle: the next request opens the store again. */
  reset(): void {
    this.#handle = undefined;
  }

  async get(key: unknown, options?: GetType | { type?: GetType; cacheTtl?: number }): Promise<unknown> {
    const type = (typeof options === 'string' ? options : options?.type) ?? 'text';
    if (!TYPES.has(type)) throw new TypeError(`Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".`);
    let bytes: Uint8Array;
    try {
      bytes = kvGet(this.#store(), keyString(key));
    } catch (error) {
      if ((error as { payload?: unknown } | null)?.payload === NOT_FOUND || error === NOT_FOUND) return null;
      throw failure(error, this.#name);
    }
    switch (type) {
      case 'text':
        return utf8Decode(bytes);
      case 'json':
        return JSON.parse(utf8Decode(bytes));
      case 'arrayBuffer':
        return bytes.buffer.byteLength === bytes.byteLength ? bytes.buffer : bytes.slice().buffer;
      default: {
        if (!hooks.streams) throw leftOut('ReadableStream (for get(key, "stream"))', 'ReadableStream');
        let done = false;
        return hooks.streams.fromReader(async () => (done ? null : ((done = true), bytes)));
      }
    }
  }

  async put(key: unknown, value: unknown, options?: { expirationTtl?: number; expiration?: number; metadata?: unknown }): Promise<void> {
    if (options?.metadata !== undefined) throw new TypeError('metadata is not supported by wfn\'s key-value stores');
    let ttl = 0;
    if (options?.expirationTtl !== undefined) {
      ttl = Number(options.expirationTtl);
      if (!Number.isFinite(ttl) || ttl < 1) throw new TypeError(`Invalid expirationTtl of ${String(options.expirationTtl)}. Expiration TTL must be a number of seconds, at least 1.`);
    } else if (options?.expiration !== undefined) {
      ttl = Number(options.expiration) - Date.now() / 1000;
      if (!Number.isFinite(ttl) || ttl < 1) throw new TypeError(`Invalid expiration of ${String(options.expiration)}. Expiration times must be in the future.`);
    }
    const bytes = await valueBytes(value);
    try {
      kvSet(this.#store(), keyString(key), bytes, Math.min(Math.ceil(ttl), 0xffffffff));
    } catch (error) {
      throw failure(error, this.#name);
    }
  }

  async delete(key: unknown): Promise<void> {
    try {
      kvDelete(this.#store(), keyString(key));
    } catch (error) {
      throw failure(error, this.#name);
    }
  }

  async list(options: { prefix?: string | null; cursor?: string | null; limit?: number } = {}): Promise<KVNamespaceListResult> {
    const limit = options.limit === undefined ? MAX_LIST_LIMIT : Number(options.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new TypeError(`Invalid key list limit ${String(options.limit)}: it must be 1 to ${MAX_LIST_LIMIT}.`);
    let raw: Uint8Array;
    try {
      raw = kvList(this.#store(), options.prefix ?? '', options.cursor ?? '', limit);
    } catch (error) {
      throw failure(error, this.#name);
    }
    const lines = utf8Decode(raw).split('\n');
    const cursor = lines[0];
    const keys = lines.slice(1, -1).map((name) => ({ name }));
    return cursor ? { keys, list_complete: false, cursor } : { keys, list_complete: true };
  }
}

/** A value as bytes: a string (UTF-8), an ArrayBuffer or a view, or a ReadableStream (read in full). */
async function valueBytes(value: unknown): Promise<Uint8Array> {
  if (typeof value === 'string') return utf8Encode(value);
  if (hooks.streams?.isReadableStream(value)) {
    const read = hooks.streams.reader(value);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (let chunk = await read(); chunk !== null; chunk = await read()) {
      chunks.push(chunk);
      total += chunk.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return toBytes(value, 'value');
  throw new TypeError('KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.');
}

const namespaces = new Map<string, KVNamespace>();

/** Called once by the toolchain's entry with `[kv] stores` of wfn.toml. */
export function defineStores(names: string[]): void {
  for (const name of names) namespaces.set(name, new KVNamespace(name));
  hooks.kv = {
    bind(env) {
      for (const [name, namespace] of namespaces) {
        namespace.reset();
        env[name] = namespace;
      }
    },
  };
}
