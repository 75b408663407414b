/** The platform-neutral key-value API: the import object over an in-memory store, sync and async. */
import { describe, expect, it } from 'vitest';
import { KV_ERROR, MAX_OPERATIONS, MAX_VALUE_BYTES, type KvRequest, type KvResult } from '../../src/runtime/kv/abi.js';
import { KvHost } from '../../src/runtime/kv/imports.js';
import { compareUtf8, KvStoreError, performOn, prefixEnd, type KvStore } from '../../src/runtime/kv/store.js';

/** A plain in-memory store (the test's own, so the host is tested against a store it does not own). */
function memoryStore(): KvStore & { data: Map<string, Uint8Array> } {
  const data = new Map<string, Uint8Array>();
  return {
    data,
    get: (key) => data.get(key),
    set: (key, value) => void data.set(key, value),
    delete: (key) => void data.delete(key),
    list: (prefix, cursor, limit) => {
      const keys = [...data.keys()].filter((k) => k.startsWith(prefix) && (cursor === undefined || compareUtf8(k, cursor) > 0)).sort(compareUtf8);
      const page = keys.slice(0, limit);
      return keys.length > limit ? { keys: page, cursor: page.at(-1) } : { keys: page };
    },
  };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A guest memory driven from the test: strings at offsets, out-params read back. */
function setup(options: { stores?: string[]; async?: boolean; store?: KvStore } = {}) {
  const store = options.store ?? memoryStore();
  const memory = new WebAssembly.Memory({ initial: 1 + Math.ceil((MAX_VALUE_BYTES + 70_000) / 65536), maximum: 1000 });
  const log: string[] = [];
  const requests: KvRequest[] = [];
  const host = new KvHost({
    settings: { stores: options.stores ?? ['default'] },
    perform: (request) => {
      requests.push(request);
      const result = performOn(() => store, request);
      return options.async ? Promise.resolve(result) : result;
    },
    log: (line) => log.push(line),
  });
  host.bind(memory);
  const api = host.imports.wfn_kv_v1;
  const bytes = () => new Uint8Array(memory.buffer);
  const view = () => new DataView(memory.buffer);
  const put = (at: number, data: string | Uint8Array) => {
    const b = typeof data === 'string' ? enc.encode(data) : data;
    bytes().set(b, at);
    return [at, b.length] as const;
  };
  const u32 = (at: number) => view().getUint32(at, true);
  const OUT = 0, OUT2 = 8, NAME = 64, KEY = 1024, BUF = 4096, VALUE = 70_000;
  const call = async (fn: string, ...args: number[]) => await api[fn](...args);
  const open = async (name = 'default') => {
    const [p, l] = put(NAME, name);
    const code = await call('open', p, l, OUT);
    return { code, handle: u32(OUT) };
  };
  const readAll = async (handle: number) => {
    const chunks: number[] = [];
    for (;;) {
      expect(await call('read', handle, BUF, 1000, OUT)).toBe(KV_ERROR.OK);
      const n = u32(OUT);
      if (n === 0) break;
      chunks.push(...bytes().subarray(BUF, BUF + n));
    }
    return new Uint8Array(chunks);
  };
  const setKey = async (store: number, key: string | Uint8Array, value: Uint8Array | string, ttl = 0) => {
    const [kp, kl] = put(KEY, key);
    const [vp, vl] = put(VALUE, value);
    return call('set', store, kp, kl, vp, vl, ttl);
  };
  const getKey = async (store: number, key: string | Uint8Array) => {
    const [kp, kl] = put(KEY, key);
    const code = await call('get', store, kp, kl, OUT, OUT2);
    return { code, handle: u32(OUT), length: u32(OUT2) };
  };
  const list = async (store: number, prefix: string, cursor = '', limit = 0) => {
    const [pp, pl] = put(KEY, prefix);
    const [cp, cl] = put(NAME, cursor);
    const code = await call('list', store, pp, pl, cp, cl, limit, OUT, OUT2);
    if (code !== KV_ERROR.OK) return { code };
    const lines = dec.decode(await readAll(u32(OUT))).split('\n');
    return { code, cursor: lines[0], keys: lines.slice(1, -1) };
  };
  const message = async () => {
    const code = await call('error_message', BUF, 1000, OUT);
    expect(code).toBe(KV_ERROR.OK);
    return dec.decode(bytes().subarray(BUF, BUF + u32(OUT)));
  };
  return { host, api, store, log, requests, call, open, readAll, setKey, getKey, list, message, put, u32, memory, OUT, OUT2, KEY };
}

for (const mode of ['sync', 'async'] as const) {
  describe(`KvHost (${mode} perform)`, () => {
    const make = (options: Parameters<typeof setup>[0] = {}) => setup({ ...options, async: mode === 'async' });

    it('set, get (binary value), delete, get again', async () => {
      const t = make();
      const { code, handle } = await t.open();
      expect(code).toBe(KV_ERROR.OK);
      const value = new Uint8Array(300).map((_, i) => (i * 7) & 0xff);
      expect(await t.setKey(handle, 'k', value)).toBe(KV_ERROR.OK);
      const got = await t.getKey(handle, 'k');
      expect(got.code).toBe(KV_ERROR.OK);
      expect(got.length).toBe(300);
      expect(Array.from(await t.readAll(got.handle))).toEqual(Array.from(value));
      expect(await t.call('close', got.handle)).toBe(KV_ERROR.OK);
      expect(await t.call('close', got.handle)).toBe(KV_ERROR.BAD_HANDLE);
      const [kp, kl] = t.put(t.KEY, 'k');
      expect(await t.call('delete', handle, kp, kl)).toBe(KV_ERROR.OK);
      expect(await t.call('delete', handle, kp, kl)).toBe(KV_ERROR.OK);
      expect((await t.getKey(handle, 'k')).code).toBe(KV_ERROR.NOT_FOUND);
      expect(t.log).toEqual(['wfn kv: kv value handle ' + got.handle + ' is not open']);
    });

    it('a store not in [kv] stores is DENIED, naming the config key', async () => {
      const t = make({ stores: ['default'] });
      expect((await t.open('other')).code).toBe(KV_ERROR.DENIED);
      expect(await t.message()).toBe('kv store "other" denied: not in [kv] stores of wfn.toml');
      expect(t.log).toEqual(['wfn kv: kv store "other" denied: not in [kv] stores of wfn.toml']);
      expect((await make({ stores: [] }).open('default')).code).toBe(KV_ERROR.DENIED);
      expect(t.requests).toEqual([]);
    });

    it('bad keys are INVALID and never reach the store', async () => {
      const t = make();
      const { handle } = await t.open();
      for (const key of ['', 'a'.repeat(513), 'a\nb', 'a\0b', '.', '..', new Uint8Array([0xff, 0xfe])]) {
        expect(await t.setKey(handle, key, 'v')).toBe(KV_ERROR.INVALID);
        expect((await t.getKey(handle, key)).code).toBe(KV_ERROR.INVALID);
      }
      expect(await t.setKey(handle, 'a'.repeat(512), 'v')).toBe(KV_ERROR.OK);
      expect(await t.setKey(handle, '...', 'v')).toBe(KV_ERROR.OK);
      expect(t.requests.map((r) => r.op)).toEqual(['set', 'set']);
      expect(t.log.some((l) => l.includes('longer than 512'))).toBe(true);
    });

    it('a value over 25 MiB is TOO_LARGE; 25 MiB exactly is stored', async () => {
      const t = make();
      const { handle } = await t.open();
      const [kp, kl] = t.put(t.KEY, 'big');
      expect(await t.call('set', handle, kp, kl, 70_000, MAX_VALUE_BYTES + 1, 0)).toBe(KV_ERROR.TOO_LARGE);
      expect(await t.call('set', handle, kp, kl, 70_000, MAX_VALUE_BYTES, 0)).toBe(KV_ERROR.OK);
      expect(t.store.data.get('big')!.length).toBe(MAX_VALUE_BYTES);
      expect(t.log.join()).not.toMatch(/big/);
    });

    it('pointers outside memory are INVALID, never a trap; unknown handles are BAD_HANDLE', async () => {
      const t = make();
      const { handle } = await t.open();
      const size = t.memory.buffer.byteLength;
      expect(await t.call('get', handle, size - 2, 10, t.OUT, t.OUT2)).toBe(KV_ERROR.INVALID);
      expect(await t.call('set', handle, 0, 1, size - 1, 10, 0)).toBe(KV_ERROR.INVALID);
      expect(await t.call('open', 0, 1, size)).toBe(KV_ERROR.INVALID);
      expect(await t.call('get', 99, 0, 1, t.OUT, t.OUT2)).toBe(KV_ERROR.BAD_HANDLE);
      expect(await t.call('read', 99, 0, 1, t.OUT)).toBe(KV_ERROR.BAD_HANDLE);
    });

    it('list: prefix, byte order, pages with a cursor, limit bounds', async () => {
      const t = make();
      const { handle } = await t.open();
      for (const key of ['b/2', 'a/1', 'b/1', 'b/\u{1F600}', 'b/\uFFFD', 'c']) await t.setKey(handle, key, 'v');
      const all = await t.list(handle, 'b/');
      expect(all).toEqual({ code: KV_ERROR.OK, cursor: '', keys: ['b/1', 'b/2', 'b/\uFFFD', 'b/\u{1F600}'] });
      const first = await t.list(handle, 'b/', '', 3);
      expect(first.keys).toEqual(['b/1', 'b/2', 'b/\uFFFD']);
      expect(first.cursor).not.toBe('');
      const second = await t.list(handle, 'b/', first.cursor!, 3);
      expect(second).toEqual({ code: KV_ERROR.OK, cursor: '', keys: ['b/\u{1F600}'] });
      expect((await t.list(handle, '')).keys).toHaveLength(6);
      expect((await t.list(handle, 'b/', '', 1001)).code).toBe(KV_ERROR.INVALID);
      expect((await t.list(handle, 'b/', 'bad\ncursor')).code).toBe(KV_ERROR.INVALID);
    });

    it('more than 1000 operations in one invocation is LIMIT', async () => {
      const t = make();
      const { handle } = await t.open();
      for (let i = 0; i < MAX_OPERATIONS; i++) expect((await t.getKey(handle, 'x')).code).toBe(KV_ERROR.NOT_FOUND);
      expect((await t.getKey(handle, 'x')).code).toBe(KV_ERROR.LIMIT);
      expect(t.requests).toHaveLength(MAX_OPERATIONS);
      expect(await t.message()).toMatch(/more than 1000 operations/);
    });

    it('values left open are bounded: past 64 MiB, LIMIT until some are closed', async () => {
      const t = make();
      const { handle } = await t.open();
      const [kp, kl] = t.put(t.KEY, 'big');
      expect(await t.call('set', handle, kp, kl, 70_000, MAX_VALUE_BYTES, 0)).toBe(KV_ERROR.OK);
      const a = await t.getKey(handle, 'big');
      const b = await t.getKey(handle, 'big');
      expect([a.code, b.code]).toEqual([KV_ERROR.OK, KV_ERROR.OK]);
      expect((await t.getKey(handle, 'big')).code).toBe(KV_ERROR.LIMIT);
      await t.call('close', a.handle);
      expect((await t.getKey(handle, 'big')).code).toBe(KV_ERROR.OK);
    });

    it('a store that cannot be reached is UNAVAILABLE, with its message logged; a throwing store is FAILED', async () => {
      const broken: KvStore = {
        get: () => { throw new KvStoreError(KV_ERROR.UNAVAILABLE, 'connect ECONNREFUSED 127.0.0.1:1'); },
        set: () => Promise.reject(new Error('disk full')),
        delete: () => undefined,
        list: () => ({ keys: [] }),
      };
      const t = make({ store: broken });
      const { handle } = await t.open();
      expect((await t.getKey(handle, 'x')).code).toBe(KV_ERROR.UNAVAILABLE);
      expect(await t.message()).toBe('kv store "default" unavailable: connect ECONNREFUSED 127.0.0.1:1');
      expect(await t.setKey(handle, 'x', 'secret-value')).toBe(KV_ERROR.FAILED);
      expect(t.log).toEqual(['wfn kv: kv store "default" unavailable: connect ECONNREFUSED 127.0.0.1:1', 'wfn kv: kv store "default" failed: disk full']);
    });

    it('error_message answers BUFFER_TOO_SMALL with the size needed', async () => {
      const t = make();
      await t.open('nope');
      expect(await t.call('error_message', 4096, 5, t.OUT)).toBe(KV_ERROR.BUFFER_TOO_SMALL);
      expect(t.u32(t.OUT)).toBe(enc.encode('kv store "nope" denied: not in [kv] stores of wfn.toml').length);
    });
  });
}

describe('store helpers', () => {
  it('prefixEnd bounds every string with the prefix, in UTF-8 byte order', () => {
    expect(prefixEnd('ab')).toBe('ac');
    expect(prefixEnd('')).toBeUndefined();
    expect(prefixEnd('a\u{10FFFF}')).toBe('b');
    expect(prefixEnd('a\uD7FF')).toBe('a\uE000');
    expect(compareUtf8('\uFFFD', '\u{1F600}')).toBeLessThan(0);
    expect('\uFFFD' < '\u{1F600}').toBe(false); // why compareUtf8 exists
  });

  it('performOn maps a store answer to results, sync stays sync', () => {
    const store = memoryStore();
    const result = performOn(() => store, { op: 'get', store: 'default', key: 'x' }) as KvResult;
    expect(result).toEqual({});
  });
});

describe('the contract accepts wfn_kv_v1 beside preview1', () => {
  const module = (imports: string) => `(module ${imports} (memory (export "memory") 1) (func (export "_start")))`;
  const i32s = (n: number) => Array(n).fill('i32').join(' ');
  const check = async (imports: string) => {
    const { wat2wasm } = await import('../helpers/wat.js');
    const { checkContract, usesKv } = await import('../../src/runtime/contract.js');
    const bytes = await wat2wasm(module(imports));
    const compiled = await WebAssembly.compile(bytes as BufferSource);
    return { problems: checkContract(compiled, { bytes }), kv: usesKv(compiled), withoutBytes: checkContract(compiled) };
  };
  const all = Object.entries({ open: 3, get: 5, read: 4, close: 1, set: 6, delete: 3, list: 8, error_message: 3 })
    .map(([name, n]) => `(import "wfn_kv_v1" "${name}" (func (param ${i32s(n)}) (result i32)))`)
    .join(' ');

  it('every function of the API, with its signature, beside wfn_http_v1; wfn inspect reports it', async () => {
    const result = await check(`(import "wfn_http_v1" "close" (func (param i32) (result i32))) ${all}`);
    expect(result.problems).toEqual([]);
    expect(result.kv).toBe(true);
    expect(result.withoutBytes).toEqual([
      'the signatures of the wfn_http_v1 imports could not be checked (no module bytes given)',
      'the signatures of the wfn_kv_v1 imports could not be checked (no module bytes given)',
    ]);
    const { wat2wasm } = await import('../helpers/wat.js');
    const { inspectWasm } = await import('../../src/pipeline/inspect.js');
    expect(await inspectWasm(await wat2wasm(module(all)))).toMatchObject({ kv: true, outbound: false, contract: { conforms: true } });
    expect((await inspectWasm(await wat2wasm(module('')))).kv).toBe(false);
  });

  it('a wrong signature, an unknown name or a non-function is refused', async () => {
    expect((await check(`(import "wfn_kv_v1" "get" (func (param i32 i32 i32 i32) (result i32)))`)).problems).toEqual([
      'import "wfn_kv_v1.get" has the signature (i32, i32, i32, i32) -> (i32), but the API defines (i32, i32, i32, i32, i32) -> (i32)',
    ]);
    expect((await check(`(import "wfn_kv_v1" "set" (func (param i32 i32 i32 i32 i32 i64) (result i32)))`)).problems[0]).toMatch(/signature/);
    expect((await check(`(import "wfn_kv_v1" "put" (func))`)).problems[0]).toMatch(/"wfn_kv_v1.put" is not a function of wfn_kv_v1/);
    expect((await check(`(import "wfn_kv_v1" "close" (global i32))`)).problems[0]).toMatch(/is a global/);
    expect((await check(`(import "wfn_kv_v2" "close" (func (param i32) (result i32)))`)).problems[0]).toMatch(/not allowed.*wfn_kv_v1 for key-value/);
    expect((await check(`(import "wfn_kv_v1" "toString" (func))`)).problems[0]).toMatch(/not a function of wfn_kv_v1/);
  });
});

describe('a function importing wfn_kv_v1 through runModule', () => {
  it('runs; without a binding every open is DENIED and logged', async () => {
    const { wat2wasm } = await import('../helpers/wat.js');
    const { runModule } = await import('../../src/runtime/invoke.js');
    const wat = `(module
      (import "wfn_kv_v1" "open" (func $open (param i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (data (i32.const 16) "default")
      (func (export "_start") (call $exit (call $open (i32.const 16) (i32.const 7) (i32.const 0)))))`;
    const module = await WebAssembly.compile((await wat2wasm(wat)) as BufferSource);
    const denied = await runModule(module, { args: [], env: [], stdin: new Uint8Array() });
    expect(denied.exitCode).toBe(KV_ERROR.DENIED);
    expect(dec.decode(denied.stderr)).toBe('wfn kv: kv store "default" denied: not in [kv] stores of wfn.toml\n');
    const store = memoryStore();
    const ok = await runModule(module, { args: [], env: [], stdin: new Uint8Array(), kv: { settings: { stores: ['default'] }, perform: (r) => performOn(() => store, r) } });
    expect(ok.exitCode).toBe(KV_ERROR.OK);
  });
});
