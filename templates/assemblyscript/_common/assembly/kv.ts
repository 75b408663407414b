// Key-value stores for a wfn function, over wfn's host API wfn_kv_v1 (docs/contract.md).
// Calls block until the store answers; failures come back as a KvError, never an abort.
// Only the stores named in `[kv] stores` of wfn.toml can be opened.
//
//   const store = Store.open("default");           // check store.error
//   store.set("greeting", String.UTF8.encode("hello"), 0); // 0: no expiry; else a TTL in seconds
//   const got = store.get("greeting");              // got.found, got.value, got.error

// @ts-ignore: decorator
@external("wfn_kv_v1", "open")
declare function hostOpen(namePtr: usize, nameLen: usize, storeOut: usize): u32;
// @ts-ignore: decorator
@external("wfn_kv_v1", "get")
declare function hostGet(store: u32, keyPtr: usize, keyLen: usize, valueOut: usize, lenOut: usize): u32;
// @ts-ignore: decorator
@external("wfn_kv_v1", "read")
declare function hostRead(value: u32, bufPtr: usize, bufLen: usize, readOut: usize): u32;
// @ts-ignore: decorator
@external("wfn_kv_v1", "close")
declare function hostClose(value: u32): u32;
// @ts-ignore: decorator
@external("wfn_kv_v1", "set")
declare function hostSet(store: u32, keyPtr: usize, keyLen: usize, valuePtr: usize, valueLen: usize, ttlSeconds: u32): u32;
// @ts-ignore: decorator
@external("wfn_kv_v1", "delete")
declare function hostDelete(store: u32, keyPtr: usize, keyLen: usize): u32;
// @ts-ignore: decorator
@external("wfn_kv_v1", "list")
declare function hostList(store: u32, prefixPtr: usize, prefixLen: usize, cursorPtr: usize, cursorLen: usize, limit: u32, valueOut: usize, lenOut: usize): u32;
// @ts-ignore: decorator
@external("wfn_kv_v1", "error_message")
declare function hostErrorMessage(bufPtr: usize, bufLen: usize, writtenOut: usize): u32;

const NOT_FOUND: u32 = 1;
const BUFFER_TOO_SMALL: u32 = 6;

/** The host's error codes. */
export namespace KvCode {
  export const DENIED: u32 = 2; // the store is not in [kv] stores of wfn.toml
  export const INVALID: u32 = 3; // a bad key (empty, over 512 bytes, newline or NUL, "." or ".."), prefix or cursor
  export const TOO_LARGE: u32 = 4; // a value over 25 MiB
  export const BAD_HANDLE: u32 = 5; // a handle that is not open
  export const LIMIT: u32 = 7; // more than 1000 operations in one request, or too many values left open
  export const UNAVAILABLE: u32 = 8; // the store behind could not be reached
  export const FAILED: u32 = 9; // anything else; the message says what
}

/** A failed call: its code (KvCode) and the host's message, naming the store and the reason. */
export class KvError {
  constructor(public code: u32, public message: string) {}
}

/** What `get` found: `value` when `found`, `error` when the call failed. */
export class Got {
  constructor(public found: bool, public value: ArrayBuffer, public error: KvError | null) {}
}

/** What `listAll` found: the keys in byte order, or `error`. */
export class Keys {
  constructor(public keys: string[], public error: KvError | null) {}
}

/** One page of `list`: the keys, and the cursor of the next page ("" on the last one). */
export class Page {
  constructor(public keys: string[], public cursor: string, public error: KvError | null) {}
}

export class Store {
  constructor(public handle: u32, public error: KvError | null) {}

  /** Opens a store named in [kv] stores of wfn.toml; check `error`. */
  static open(name: string): Store {
    const bytes = String.UTF8.encode(name);
    const out = new ArrayBuffer(4);
    const code = hostOpen(changetype<usize>(bytes), bytes.byteLength, changetype<usize>(out));
    return code == 0 ? new Store(load<u32>(changetype<usize>(out)), null) : new Store(0, lastError(code));
  }

  /** The value of key; `found` is false when it is absent or expired. */
  get(key: string): Got {
    const bytes = String.UTF8.encode(key);
    const out = new ArrayBuffer(8);
    const code = hostGet(this.handle, changetype<usize>(bytes), bytes.byteLength, changetype<usize>(out), changetype<usize>(out) + 4);
    if (code == NOT_FOUND) return new Got(false, new ArrayBuffer(0), null);
    if (code != 0) return new Got(false, new ArrayBuffer(0), lastError(code));
    const value = readValue(load<u32>(changetype<usize>(out)), load<u32>(changetype<usize>(out) + 4));
    return value.error ? new Got(false, new ArrayBuffer(0), value.error) : new Got(true, value.bytes, null);
  }

  /** Stores value under key (overwrites); ttlSeconds 0: no expiry. Null when it worked. */
  set(key: string, value: ArrayBuffer, ttlSeconds: u32): KvError | null {
    const bytes = String.UTF8.encode(key);
    const code = hostSet(this.handle, changetype<usize>(bytes), bytes.byteLength, changetype<usize>(value), value.byteLength, ttlSeconds);
    return code == 0 ? null : lastError(code);
  }

  /** Removes key (fine when it is absent). Null when it worked. */
  delete(key: string): KvError | null {
    const bytes = String.UTF8.encode(key);
    const code = hostDelete(this.handle, changetype<usize>(bytes), bytes.byteLength);
    return code == 0 ? null : lastError(code);
  }

  /** One page of the keys starting with prefix, in byte order; limit 0 means 1000. */
  list(prefix: string, cursor: string, limit: u32): Page {
    const p = String.UTF8.encode(prefix);
    const c = String.UTF8.encode(cursor);
    const out = new ArrayBuffer(8);
    const code = hostList(this.handle, changetype<usize>(p), p.byteLength, changetype<usize>(c), c.byteLength, limit, changetype<usize>(out), changetype<usize>(out) + 4);
    if (code != 0) return new Page([], "", lastError(code));
    const value = readValue(load<u32>(changetype<usize>(out)), load<u32>(changetype<usize>(out) + 4));
    if (value.error) return new Page([], "", value.error);
    const lines = String.UTF8.decode(value.bytes).split("\n");
    const keys: string[] = [];
    for (let i = 1; i < lines.length; i++) if (lines[i].length > 0) keys.push(lines[i]);
    return new Page(keys, lines[0], null);
  }

  /** Every key starting with prefix, page after page. */
  listAll(prefix: string): Keys {
    const keys: string[] = [];
    let cursor = "";
    while (true) {
      const page = this.list(prefix, cursor, 0);
      if (page.error) return new Keys([], page.error);
      for (let i = 0; i < page.keys.length; i++) keys.push(page.keys[i]);
      if (page.cursor.length == 0) return new Keys(keys, null);
      cursor = page.cursor;
    }
  }
}

class Value {
  constructor(public bytes: ArrayBuffer, public error: KvError | null) {}
}

function readValue(handle: u32, length: u32): Value {
  const bytes = new ArrayBuffer(length);
  const out = new ArrayBuffer(4);
  let filled: u32 = 0;
  while (filled < length) {
    const code = hostRead(handle, changetype<usize>(bytes) + filled, length - filled, changetype<usize>(out));
    if (code != 0) {
      hostClose(handle);
      return new Value(new ArrayBuffer(0), lastError(code));
    }
    const n = load<u32>(changetype<usize>(out));
    if (n == 0) break;
    filled += n;
  }
  hostClose(handle);
  return new Value(filled == length ? bytes : bytes.slice(0, filled), null);
}

function lastError(code: u32): KvError {
  let buf = new ArrayBuffer(512);
  const out = new ArrayBuffer(4);
  while (true) {
    const status = hostErrorMessage(changetype<usize>(buf), buf.byteLength, changetype<usize>(out));
    const written = load<u32>(changetype<usize>(out));
    if (status == BUFFER_TOO_SMALL) {
      buf = new ArrayBuffer(written);
      continue;
    }
    return new KvError(code, status == 0 ? String.UTF8.decode(buf.slice(0, written)) : "kv call failed");
  }
}
