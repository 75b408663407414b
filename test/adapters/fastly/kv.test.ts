/**
 * Key-value on Fastly: the function's wfn_kv_v1 calls go through kv.wat (merged into main.wasm)
 * to the fastly_kv_store hostcalls, which the emulator implements over a store. The same
 * command scripts run through the Node host (src/runtime/kv over the same kind of store) and
 * through the merged module in the emulator must answer byte for byte alike, messages included.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runFastly } from '../../../adapters/fastly/emulator/run.js';
import { mergeFunction } from '../../../adapters/fastly/merge.js';
import { invokeHttp } from '../../../src/runtime/invoke.js';
import { performOn } from '../../../src/runtime/kv/index.js';
import { readImports } from '../../../src/runtime/wasm-imports.js';
import { binary, CONFORMANCE, memoryStore, script, scriptWasm, tok, type MemoryStore } from '../kv-script.js';

const STORES = { stores: ['default', 'second'] };
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

let fn: WebAssembly.Module;
let merged: WebAssembly.Module;
let mergedBytes: Uint8Array;

beforeAll(async () => {
  const wasm = await scriptWasm();
  fn = await WebAssembly.compile(wasm as BufferSource);
  mergedBytes = (await mergeFunction(wasm, { env: {}, kv: STORES })).wasm;
  merged = await WebAssembly.compile(mergedBytes as BufferSource);
}, 120_000);

function req(body: Uint8Array) {
  return { method: 'POST', url: 'http://localhost/', headers: [['host', 'localhost']] as [string, string][], body };
}

async function viaNode(body: Uint8Array, stores: Record<string, MemoryStore>) {
  const r = await invokeHttp(fn, req(body), { route: '/', env: {} }, { kv: { settings: STORES, perform: (request) => performOn((name) => stores[name], request) } });
  return { status: r.response.status, body: r.response.body, stderr: text(r.stderr) };
}

async function viaFastly(body: Uint8Array, stores: Record<string, MemoryStore>) {
  const r = await runFastly(merged, { ...req(body), remoteAddr: '127.0.0.1' }, { imports: readImports(mergedBytes), kvStores: stores });
  return { status: r.response.status, body: r.response.body, stderr: text(r.stderr), outcome: r.outcome, reason: r.reason, logs: r.logs };
}

describe('wfn_kv_v1 on Fastly (kv.wat on fastly_kv_store)', () => {
  for (const c of CONFORMANCE) {
    it(`answers like the Node host: ${c.name}`, async () => {
      const body = script(c.lines, c.payload);
      const node = await viaNode(body, { default: memoryStore(), second: memoryStore() });
      const fastly = await viaFastly(body, { default: memoryStore(), second: memoryStore() });
      expect(fastly.outcome, fastly.reason).toBe('ok');
      expect(text(fastly.body)).toBe(text(node.body));
      expect(fastly.stderr).toBe(node.stderr);
    });
  }

  it('round-trips binary and 5 MiB values, lists keys in byte order', async () => {
    const store = memoryStore();
    const big = binary(5 * 1024 * 1024);
    const set = await viaFastly(script(['open default', `set 1 ${tok('k/big')} 0`], big), { default: store, second: memoryStore() });
    expect(text(set.body)).toBe('open 0 1\nset 0\n');
    expect(Buffer.compare(store.data.get('k/big')!.value, big)).toBe(0);
    const got = await viaFastly(script(['open default', `get 1 ${tok('k/big')}`]), { default: store, second: memoryStore() });
    const head = `open 0 1\nget 0 ${big.length}\n`;
    expect(text(got.body.subarray(0, head.length))).toBe(head);
    expect(Buffer.compare(got.body.subarray(head.length, head.length + big.length), big)).toBe(0);
    for (const k of ['b', 'a', 'é', '\u{1f600}', 'z', 'A']) store.set(k, new Uint8Array(1), 0);
    const listed = await viaFastly(script(['open default', 'list 1 0 - -']), { default: store, second: memoryStore() });
    expect(text(listed.body)).toBe(text(Buffer.from(`open 0 1\nlist 0 ${Buffer.byteLength('\nA\na\nb\nk/big\nz\né\n\u{1f600}\n')}\n\nA\na\nb\nk/big\nz\né\n\u{1f600}\n`)));
  }, 60_000);

  it('passes the TTL to Fastly (time_to_live_sec); an expired key is absent', async () => {
    let now = 1_000_000;
    const store = memoryStore(() => now);
    const stores = { default: store, second: memoryStore() };
    await viaFastly(script(['open default', 'set 1 short 2', 'set 1 long 0'], new TextEncoder().encode('v')), stores);
    expect(store.sets).toEqual([{ key: 'short', ttlSeconds: 2 }, { key: 'long', ttlSeconds: 0 }]);
    expect(text((await viaFastly(script(['open default', 'get 1 short']), stores)).body)).toBe('open 0 1\nget 0 1\nv\n');
    now += 2500;
    expect(text((await viaFastly(script(['open default', 'get 1 short', 'list 1 0 - -']), stores)).body))
      .toBe('open 0 1\nget 1 kv store "default": key not found\nlist 0 6\n\nlong\n');
  });

  it('a store not linked to the service is UNAVAILABLE, naming the link', async () => {
    const r = await viaFastly(script(['open second', 'open default']), { default: memoryStore() } as Record<string, MemoryStore>);
    expect(text(r.body)).toBe('open 8 kv store "second" unavailable: the Fastly KV store "second" is not linked to this service (wfn deploy --target fastly links it)\nopen 0 1\n');
    expect(r.stderr).toContain('wfn kv: kv store "second" unavailable');
  });

  it('a key Fastly refuses (its rules are stricter) is INVALID with Fastly\'s rules', async () => {
    const r = await viaFastly(script(['open default', `set 1 ${tok('a#b')} 0`, `get 1 ${tok('x/../y')}`]), { default: memoryStore(), second: memoryStore() });
    expect(text(r.body)).toMatch(/^open 0 1\nset 3 kv call invalid: Fastly's KV store refused the key \(on Fastly keys may not contain # ; \? \^ \|.*\nget 3 kv call invalid: Fastly's KV store refused the key/);
  });

  it('keys other tools wrote with a newline are left out of the list; JSON escapes are decoded', async () => {
    const store = memoryStore();
    store.data.set('line\nbreak', { value: new Uint8Array(1) });
    store.data.set('quote"back\\slash\ttab\u0001', { value: new Uint8Array(1) });
    const r = await viaFastly(script(['open default', 'list 1 0 - -']), { default: store, second: memoryStore() });
    expect(text(Buffer.from(r.body)).split('\n').slice(2)).toEqual(['', Buffer.from('quote"back\\slash\ttab\u0001').toString('latin1'), '']);
  });
});

describe('wfn dev --target fastly keeps its KV stores in SQLite files under .wfn/kv/fastly', () => {
  it('the packaged main.wasm on the emulator\'s worker threads; values survive a restart', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const { existsSync } = await import('node:fs');
    const { adapter } = await import('../../../adapters/fastly/index.js');
    const { DEFAULT_LIMITS } = await import('../../../src/config/types.js');
    const { DEFAULT_OUTBOUND } = await import('../../../src/runtime/outbound/abi.js');
    const { request } = await import('../../helpers/http.js');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wfn-fastly-kv-'));
    const wasmPath = path.join(dir, 'script.wasm');
    await writeFile(wasmPath, await scriptWasm());
    const bundle = await adapter.package({ name: 'kv-script', wasmPath, env: {}, secrets: [], limits: DEFAULT_LIMITS, outbound: DEFAULT_OUTBOUND, kv: STORES, projectDir: dir });
    const first = await adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: () => {} });
    try {
      const set = await request(first.url, { method: 'POST', body: script(['open default', 'set 1 kept 0', 'open second', 'set 2 other 0'], binary(1000)) });
      expect(text(set.body)).toBe('open 0 1\nset 0\nopen 0 2\nset 0\n');
    } finally {
      await first.close();
    }
    const second = await adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: () => {} });
    try {
      const got = await request(second.url, { method: 'POST', body: script(['open default', 'get 1 kept', 'list 1 0 - -', 'open second', 'list 2 0 - -', 'get 2 kept']) });
      expect(text(got.body)).toBe(`open 0 1\nget 0 1000\n${text(binary(1000))}\nlist 0 6\n\nkept\nopen 0 2\nlist 0 7\n\nother\nget 1 kv store "second": key not found\n`);
    } finally {
      await second.close();
    }
    expect(existsSync(path.join(dir, '.wfn', 'kv', 'fastly', 'default.sqlite'))).toBe(true);
  }, 120_000);
});
