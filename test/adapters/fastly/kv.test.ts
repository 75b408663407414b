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

describe('Fastly\'s own SDK on the emulator\'s fastly_kv_store (@fastly/js-compute KVStore)', () => {
  it('put, get, list pages (the SDK parses the JSON page), delete, TTL handed on; an unknown store throws', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const { adapter } = await import('../../../adapters/fastly/index.js');
    const { DEFAULT_LIMITS } = await import('../../../src/config/types.js');
    const { DEFAULT_OUTBOUND } = await import('../../../src/runtime/outbound/abi.js');
    const { request } = await import('../../helpers/http.js');
    const { buildJsCompute } = await import('./helpers.js');
    const wasmPath = await buildJsCompute('js-compute-kv');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wfn-fastly-jskv-'));
    const base = { name: 'jskv', wasmPath, env: {}, secrets: [], limits: DEFAULT_LIMITS, outbound: DEFAULT_OUTBOUND, projectDir: dir };
    const logs: string[] = [];
    const e = await adapter.emulate(await adapter.package({ ...base, kv: { stores: ['default'] } }), { host: '127.0.0.1', port: 0, log: (l) => logs.push(l) });
    try {
      const big = binary(300_000);
      expect((await request(`${e.url}a%2Fbin`, { method: 'PUT', body: big })).status).toBe(201);
      const got = await request(`${e.url}a%2Fbin`);
      expect(got.status).toBe(200);
      expect(Buffer.compare(got.body, big)).toBe(0);
      for (const k of ['a/2', 'a/1', 'a/\u00e9', 'b']) expect((await request(`${e.url}${encodeURIComponent(k)}?ttl=3600`, { method: 'PUT', body: Buffer.from(k) })).status).toBe(201);
      const all = JSON.parse(Buffer.from((await request(`${e.url}?prefix=a%2F`)).body).toString());
      expect(all.list).toEqual(['a/1', 'a/2', 'a/bin', 'a/\u00e9']);
      const first = JSON.parse(Buffer.from((await request(`${e.url}?prefix=a%2F&limit=2`)).body).toString());
      expect(first.list).toEqual(['a/1', 'a/2']);
      expect(typeof first.cursor).toBe('string');
      const second = JSON.parse(Buffer.from((await request(`${e.url}?prefix=a%2F&limit=2&cursor=${encodeURIComponent(first.cursor)}`)).body).toString());
      expect(second.list).toEqual(['a/bin', 'a/\u00e9']);
      expect((await request(`${e.url}a%2F1`, { method: 'DELETE' })).status).toBe(204);
      expect((await request(`${e.url}a%2F1`)).status).toBe(404);
      expect(logs.join('\n')).not.toMatch(/not emulated/);
    } finally {
      await e.close();
    }
    // a service without the store: the SDK's KVStore constructor throws (a 500 from the program)
    const bare = await adapter.emulate(await adapter.package({ ...base, name: 'jskv-bare' }), { host: '127.0.0.1', port: 0, log: () => {} });
    try {
      expect((await request(`${bare.url}x`)).status).toBe(500);
    } finally {
      await bare.close();
    }
  }, 300_000);
});

describe('kv.wat reads Fastly\'s list page as JSON, not as one fixed layout', () => {
  it('members in any order, whitespace, values it skips (nested, with brackets in strings), escapes and surrogate pairs', async () => {
    // The page exactly as written here, in place of the emulator's own JSON.stringify output.
    const page = '{ "meta" : { "limit" : 1000 , "extra" : [1, {"a": "]}"}], "next_cursor" : "c\\u00e9\\/x" } ,\n'
      + ' "other": [true, null, -1.5e3, "\\"]"],\t"data" : [ "\\ud83d\\ude00" , "a\\"b\\\\", "\\u00e9", "lone\\ud800x", "t\\tab" ] }';
    const store = memoryStore();
    store.list = () => ({ keys: ['placeholder'] });
    const stringify = JSON.stringify;
    JSON.stringify = ((value: unknown, ...rest: unknown[]) =>
      (value as { data?: unknown })?.data !== undefined ? page : (stringify as (...a: unknown[]) => string)(value, ...rest)) as typeof JSON.stringify;
    let body: string;
    try {
      body = text((await viaFastly(script(['open default', 'list 1 0 - -']), { default: store, second: memoryStore() })).body);
    } finally {
      JSON.stringify = stringify;
    }
    const lines = ['c\u00e9/x', '\u{1F600}', 'a"b\\', '\u00e9', 'lone\ufffdx', 't\tab'].map((l) => `${l}\n`).join('');
    expect(body).toBe(text(Buffer.from(`open 0 1\nlist 0 ${Buffer.byteLength(lines)}\n${lines}`)));
  });

  it('a page that is not JSON of that shape is FAILED, saying so', async () => {
    const store = memoryStore();
    store.list = () => ({ keys: [] });
    const stringify = JSON.stringify;
    JSON.stringify = ((value: unknown, ...rest: unknown[]) =>
      (value as { data?: unknown })?.data !== undefined ? '{"data": ["unterminated' : (stringify as (...a: unknown[]) => string)(value, ...rest)) as typeof JSON.stringify;
    let r: Awaited<ReturnType<typeof viaFastly>>;
    try {
      r = await viaFastly(script(['open default', 'list 1 0 - -']), { default: store, second: memoryStore() });
    } finally {
      JSON.stringify = stringify;
    }
    expect(text(r.body)).toBe('open 0 1\nlist 9 kv store "default" failed: Fastly\'s KV store answered a list page that is not of the documented shape\n');
  });
});

describe('a host that does not tell a value\'s length (known_length answers $none)', () => {
  it('kv.wat reads the value into a body of its own first: the same answers', async () => {
    const { FastlyHost, Status } = await import('../../../adapters/fastly/emulator/hostcalls.js');
    const proto = FastlyHost.prototype as unknown as { imports: (...a: unknown[]) => Record<string, Record<string, unknown>> };
    const original = proto.imports;
    let bodies = 0;
    proto.imports = function (this: unknown, ...a: unknown[]) {
      const imports = original.apply(this, a);
      if (imports.fastly_http_body?.known_length) imports.fastly_http_body.known_length = () => Status.NONE;
      const make = imports.fastly_http_body?.new as ((out: number) => number) | undefined;
      if (make) imports.fastly_http_body.new = (out: number) => (bodies++, make(out));
      return imports;
    };
    const value = binary(200_000);
    const lines = ['open default', 'set 1 v 0', 'get 1 v', 'getopen 1 v', 'read 1 5', 'close 1', 'list 1 0 - -'];
    try {
      const node = await viaNode(script(lines, value), { default: memoryStore(), second: memoryStore() });
      const fastly = await viaFastly(script(lines, value), { default: memoryStore(), second: memoryStore() });
      expect(fastly.outcome, fastly.reason).toBe('ok');
      expect(text(fastly.body)).toBe(text(node.body));
      expect(text(fastly.body)).toContain(`get 0 ${value.length}\n`);
      // bodies made: the response's, set's value, list's page, and a copy for each of the two gets
      expect(bodies).toBe(5);
    } finally {
      proto.imports = original;
    }
  });
});

describe('kv.wat imports fastly_kv_store as Fastly\'s own SDK does', () => {
  it('every fastly_kv_store and fastly_http_body hostcall of main.wasm has the type @fastly/js-compute\'s KVStore imports', async () => {
    const { readFile } = await import('node:fs/promises');
    const { formatFuncType } = await import('../../../src/runtime/wasm-imports.js');
    const { buildJsCompute } = await import('./helpers.js');
    const reference = readImports(new Uint8Array(await readFile(await buildJsCompute('js-compute-kv'))));
    const refTypes = new Map(reference.map((i) => [`${i.module}.${i.name}`, formatFuncType(i.type)]));
    const ours = readImports(mergedBytes).filter((i) => i.module === 'fastly_kv_store' || i.module === 'fastly_http_body');
    const kvNames = ours.filter((i) => i.module === 'fastly_kv_store').map((i) => i.name).sort();
    expect(kvNames).toEqual(['delete', 'delete_wait', 'insert', 'insert_wait', 'list', 'list_wait', 'lookup', 'lookup_wait_v2', 'open']);
    const compared: string[] = [];
    for (const imp of ours) {
      const key = `${imp.module}.${imp.name}`;
      const want = refTypes.get(key);
      if (want === undefined) continue;
      compared.push(key);
      expect(`${key} ${formatFuncType(imp.type)}`).toBe(`${key} ${want}`);
    }
    // the SDK uses each of them (lookup_wait or its v2): all but at most one compared
    expect(compared.filter((k) => k.startsWith('fastly_kv_store.')).length).toBeGreaterThanOrEqual(8);
  }, 300_000);
});

describe('the package of a function that uses KV', () => {
  it('`fastly compute validate` (the Fastly CLI, offline) accepts it; main.wasm imports fastly_kv_store only when the function uses KV', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const { fileURLToPath } = await import('node:url');
    const { adapter, mainWasmPath } = await import('../../../adapters/fastly/index.js');
    const { checkMerged } = await import('../../../adapters/fastly/merge.js');
    const { DEFAULT_LIMITS } = await import('../../../src/config/types.js');
    const { DEFAULT_OUTBOUND } = await import('../../../src/runtime/outbound/abi.js');
    const { readFile } = await import('node:fs/promises');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wfn-fastly-kvpkg-'));
    const wasmPath = path.join(dir, 'script.wasm');
    await writeFile(wasmPath, await scriptWasm());
    const bundle = await adapter.package({ name: 'kv-pkg', wasmPath, env: {}, secrets: [], limits: DEFAULT_LIMITS, outbound: DEFAULT_OUTBOUND, kv: STORES, projectDir: dir });
    const main = new Uint8Array(await readFile(mainWasmPath(bundle)));
    expect(checkMerged(main)).toEqual([]);
    expect(readImports(main).filter((i) => i.module.startsWith('wfn_'))).toEqual([]);
    const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'node_modules', '.bin', 'fastly');
    const { stdout, stderr } = await promisify(execFile)(cli, ['compute', 'validate', '--package', bundle.archive!, '--non-interactive'], {
      timeout: 60_000,
      env: { ...process.env, FASTLY_API_TOKEN: '' },
    });
    expect(`${stdout}${stderr}`).toMatch(/Validated package/);
    // a function without wfn_kv_v1 gets no kv.wat, whatever [kv] says
    const { watFixture } = await import('./helpers.js');
    const plainPath = path.join(dir, 'plain.wasm');
    await writeFile(plainPath, await watFixture('echo.wat'));
    const plain = await adapter.package({ name: 'plain', wasmPath: plainPath, env: {}, secrets: [], limits: DEFAULT_LIMITS, outbound: DEFAULT_OUTBOUND, kv: STORES, projectDir: dir });
    expect(readImports(new Uint8Array(await readFile(mainWasmPath(plain)))).filter((i) => i.module === 'fastly_kv_store')).toEqual([]);
  }, 300_000);
});
