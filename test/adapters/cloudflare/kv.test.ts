/**
 * Key-value on Cloudflare: the packaged Worker in the real workerd, each `[kv] stores` name a
 * KV namespace binding that workerd serves from the emulator's loopback KV service; the shim's
 * get/set/delete/list await the binding under JSPI. The command scripts of the WAT fixture must
 * answer as on the Node host (src/runtime/kv over the same kind of store), messages included.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapter } from '../../../adapters/cloudflare/index.js';
import { startCloudflareEmulator, type CloudflareEmulator } from '../../../adapters/cloudflare/emulator.js';
import { DEFAULT_LIMITS } from '../../../src/config/types.js';
import { invokeHttp } from '../../../src/runtime/invoke.js';
import { DEFAULT_OUTBOUND } from '../../../src/runtime/outbound/abi.js';
import { performOn } from '../../../src/runtime/kv/index.js';
import type { Artifact, Bundle } from '../../../src/target/types.js';
import { request } from '../../helpers/http.js';
import { binary, CONFORMANCE, memoryStore, script, scriptWasm, tok, type MemoryStore } from '../kv-script.js';

const STORES = { stores: ['default', 'second'] };
const text = (b: Uint8Array) => Buffer.from(b).toString('latin1');

let dir: string;
let wasmPath: string;
let fn: WebAssembly.Module;
let bundle: Bundle;
let emulator: CloudflareEmulator;
let now = 1_700_000_000_000;
const stores: Record<string, MemoryStore> = { default: memoryStore(() => now), second: memoryStore(() => now) };
const logs: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wfn-cf-kv-'));
  wasmPath = path.join(dir, 'script.wasm');
  const wasm = await scriptWasm();
  await writeFile(wasmPath, wasm);
  fn = await WebAssembly.compile(wasm as BufferSource);
  const artifact: Artifact = { name: 'kv-script', wasmPath, env: {}, secrets: [], limits: { ...DEFAULT_LIMITS, timeoutMs: 20_000 }, outbound: DEFAULT_OUTBOUND, kv: STORES, projectDir: dir };
  bundle = await adapter.package(artifact);
  emulator = await startCloudflareEmulator(bundle, { host: '127.0.0.1', port: 0, log: (l) => logs.push(l), kvStore: (name) => stores[name], kvNow: () => now });
}, 120_000);

afterAll(async () => {
  await emulator?.close();
});

async function viaNode(body: Uint8Array) {
  const own = { default: memoryStore(), second: memoryStore() } as Record<string, MemoryStore>;
  const r = await invokeHttp(fn, { method: 'POST', url: 'http://localhost/', headers: [['host', 'localhost']], body }, { route: '/', env: {} }, {
    kv: { settings: STORES, perform: (req) => performOn((name) => own[name], req) },
  });
  return { body: r.response.body, stderr: Buffer.from(r.stderr).toString('utf8') };
}

const viaWorker = (body: Uint8Array) => request(emulator.url, { method: 'POST', body });

function clearStores(): void {
  for (const s of Object.values(stores)) {
    s.data.clear();
    s.sets.length = 0;
  }
}

describe('the Cloudflare package binds one KV namespace per store', () => {
  it('metadata.json has a kv_namespace binding per store (the id is filled at deploy); workerd.capnp serves each', async () => {
    const metadata = JSON.parse(await readFile(path.join(bundle.dir, 'metadata.json'), 'utf8')) as { bindings: unknown[] };
    expect(metadata.bindings).toEqual(expect.arrayContaining([{ type: 'kv_namespace', name: 'default' }, { type: 'kv_namespace', name: 'second' }]));
    const capnp = await readFile(path.join(bundle.dir, 'workerd.capnp'), 'utf8');
    expect(capnp).toContain('(name = "default", kvNamespace = "wfn-kv-default")');
    expect(capnp).toContain('(name = "wfn-kv-second", external = (address = "127.0.0.1:9", http = ()))');
  });
});

describe('wfn_kv_v1 on the Cloudflare emulator (workerd, KV bindings, JSPI)', () => {
  for (const c of CONFORMANCE) {
    it(`answers like the Node host: ${c.name}`, async () => {
      clearStores();
      const body = script(c.lines, c.payload);
      const node = await viaNode(body);
      logs.length = 0;
      const res = await viaWorker(body);
      expect(res.status).toBe(200);
      expect(text(res.body)).toBe(text(node.body));
      // each failed call's line reaches the Worker's log (workerd's output)
      for (const line of node.stderr.split('\n').filter(Boolean)) expect(logs.join('\n')).toContain(line);
    }, 60_000);
  }

  it('round-trips binary and 5 MiB values through the binding', async () => {
    clearStores();
    const big = binary(5 * 1024 * 1024);
    const set = await viaWorker(script(['open default', `set 1 ${tok('k/big')} 0`], big));
    expect(text(set.body)).toBe('open 0 1\nset 0\n');
    expect(Buffer.compare(stores.default.data.get('k/big')!.value, big)).toBe(0);
    const got = await viaWorker(script(['open default', `get 1 ${tok('k/big')}`]));
    const head = `open 0 1\nget 0 ${big.length}\n`;
    expect(text(got.body.subarray(0, head.length))).toBe(head);
    expect(Buffer.compare(got.body.subarray(head.length, head.length + big.length), big)).toBe(0);
  }, 60_000);

  it('a TTL under 60 s is raised to 60 (Workers KV\'s minimum); the key expires after it', async () => {
    clearStores();
    const set = await viaWorker(script(['open default', 'set 1 short 2', 'set 1 long 120', 'set 1 never 0'], new TextEncoder().encode('v')));
    expect(text(set.body)).toBe('open 0 1\nset 0\nset 0\nset 0\n');
    expect(stores.default.sets).toEqual([{ key: 'short', ttlSeconds: 60 }, { key: 'long', ttlSeconds: 120 }, { key: 'never', ttlSeconds: 0 }]);
    now += 59_000;
    expect(text((await viaWorker(script(['open default', 'get 1 short']))).body)).toBe('open 0 1\nget 0 1\nv\n');
    now += 2_000;
    expect(text((await viaWorker(script(['open default', 'get 1 short', 'list 1 0 - -']))).body))
      .toBe('open 0 1\nget 1 kv store "default": key not found\nlist 0 12\n\nlong\nnever\n');
  }, 60_000);
});

describe('the local KV service answers workerd\'s protocol and refuses bad input', () => {
  it('refuses a TTL under 60, a bad limit, a key over 512 bytes, other methods', async () => {
    const { startKvService } = await import('../../../adapters/cloudflare/kv-service.js');
    const store = memoryStore();
    const service = await startKvService(store, () => {});
    const base = `http://127.0.0.1:${service.port}`;
    try {
      expect((await request(`${base}/k?urlencoded=true&expiration_ttl=59`, { method: 'PUT', body: new Uint8Array(1) })).status).toBe(400);
      expect((await request(`${base}/k?urlencoded=true&expiration_ttl=abc`, { method: 'PUT', body: new Uint8Array(1) })).status).toBe(400);
      expect((await request(`${base}/?key_count_limit=1001`)).status).toBe(400);
      expect((await request(`${base}/${'a'.repeat(513)}`)).status).toBe(414);
      expect((await request(`${base}/%ZZ`)).status).toBe(400);
      expect((await request(`${base}/k`, { method: 'POST', body: new Uint8Array(1) })).status).toBe(405);
      expect((await request(`${base}/?cursor=bogus`)).status).toBe(400);
      expect(store.sets).toEqual([]);
      expect((await request(`${base}/a%2Fb?urlencoded=true&expiration_ttl=60`, { method: 'PUT', body: new Uint8Array([1, 2]) })).status).toBe(200);
      expect(store.sets).toEqual([{ key: 'a/b', ttlSeconds: 60 }]);
      const listed = await request(`${base}/?prefix=a&key_count_limit=5`);
      expect(JSON.parse(Buffer.from(listed.body).toString())).toEqual({ keys: [{ name: 'a/b' }], list_complete: true });
      expect((await request(`${base}/missing`)).status).toBe(404);
    } finally {
      await service.close();
    }
  });
});

describe('wfn dev --target cloudflare keeps its KV namespaces in SQLite files under .wfn/kv/cloudflare', () => {
  it('values survive a restart of the emulator', async () => {
    const artifact = { ...bundle.artifact, name: 'kv-restart' };
    const b = await adapter.package(artifact);
    const first = await adapter.emulate(b, { host: '127.0.0.1', port: 0, log: () => {} });
    try {
      const set = await request(first.url, { method: 'POST', body: script(['open default', 'set 1 kept 0', 'open second', 'set 2 other 0'], binary(1000)) });
      expect(text(set.body)).toBe('open 0 1\nset 0\nopen 0 2\nset 0\n');
    } finally {
      await first.close();
    }
    const second = await adapter.emulate(b, { host: '127.0.0.1', port: 0, log: () => {} });
    try {
      const got = await request(second.url, { method: 'POST', body: script(['open default', 'get 1 kept', 'list 1 0 - -', 'open second', 'list 2 0 - -']) });
      expect(text(got.body)).toBe(`open 0 1\nget 0 1000\n${text(binary(1000))}\nlist 0 6\n\nkept\nopen 0 2\nlist 0 7\n\nother\n`);
    } finally {
      await second.close();
    }
    const { existsSync } = await import('node:fs');
    expect(existsSync(path.join(dir, '.wfn', 'kv', 'cloudflare', 'default.sqlite'))).toBe(true);
  }, 60_000);
});

describe('a KV call that never answers', () => {
  it('the shim answers 504 at the function\'s timeout, naming the wait; workerd keeps running', async () => {
    const hanging = memoryStore();
    hanging.get = () => new Promise(() => {});
    const logs: string[] = [];
    const slow = await adapter.package({ ...bundle.artifact, name: 'kv-hang', limits: { ...bundle.artifact.limits, timeoutMs: 1500 } });
    const e = await startCloudflareEmulator(slow, { host: '127.0.0.1', port: 0, log: (l) => logs.push(l), kvStore: () => hanging });
    try {
      const res = await request(e.url, { method: 'POST', body: script(['open default', 'get 1 k']) });
      expect(res.status).toBe(504);
      expect(logs.some((l) => / 504 .*waiting on a KV call/.test(l))).toBe(true);
      expect(e.starts).toBe(1);
      const next = await request(e.url, { method: 'POST', body: script(['open default', 'set 1 k 0']) });
      expect(Buffer.from(next.body).toString()).toBe('open 0 1\nset 0\n');
    } finally {
      await e.close();
    }
  }, 60_000);
});
