/**
 * The Fastly emulator: checked against Fastly's own client code (a program built by
 * @fastly/js-compute), against the ABI's rules (buffer too small, unsupported hostcalls,
 * streaming bodies), and for its limits (timeout, memory cap).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readFile } from 'node:fs/promises';
import { adapter, mainWasmPath } from '../../../adapters/fastly/index.js';
import { runFastly } from '../../../adapters/fastly/emulator/run.js';
import { definedMemories } from '../../../src/runtime/wasm-binary.js';
import { readImports } from '../../../src/runtime/wasm-imports.js';
import type { Artifact, Emulator } from '../../../src/target/types.js';
import { request } from '../../helpers/http.js';
import { buildJsComputeHello, request as downstream, watFixture } from './helpers.js';

const closers: Emulator[] = [];

afterAll(async () => {
  await Promise.all(closers.map((e) => e.close()));
});

async function emulate(wasmPath: string, limits = { memoryMiB: 128, timeoutMs: 10_000 }, logs: string[] = []): Promise<Emulator> {
  const artifact: Artifact = { name: path.basename(wasmPath, '.wasm'), wasmPath, env: {}, secrets: [], limits };
  const bundle = await adapter.package(artifact);
  const emulator = await adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: (l) => logs.push(l) });
  closers.push(emulator);
  return emulator;
}

async function writeWasm(dir: string, name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, bytes);
  return file;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wfn-fastly-emulator-'));
});

describe('a program built by Fastly\'s own JavaScript toolchain', () => {
  let url: string;
  const logs: string[] = [];

  beforeAll(async () => {
    // The real SDK and its real hostcall usage.
    url = (await emulate(await buildJsComputeHello(), undefined, logs)).url;
  }, 180_000);

  test('status, headers (repeated kept), body and the request URL it sees', async () => {
    const res = await request(new URL('/hello/there?name=wasm', url).href, {
      method: 'POST',
      headers: [['user-agent', 'wfn-test/1'], ['content-type', 'text/plain']],
      body: new TextEncoder().encode('hi from the client'),
    });
    expect(res.status).toBe(201);
    const headers = res.headers.filter(([k]) => ['content-type', 'set-cookie', 'x-hello'].includes(k));
    expect(headers).toEqual([
      ['content-type', 'application/json; charset=utf-8'],
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['x-hello', 'world'],
    ]);
    const json = JSON.parse(res.body.toString());
    expect(json).toEqual({
      method: 'POST',
      url: new URL('/hello/there?name=wasm', url).href,
      path: '/hello/there',
      query: 'wasm',
      userAgent: 'wfn-test/1',
      missing: null,
      body: 'hi from the client',
    });
    expect(logs.some((l) => l.startsWith('POST /hello/there?name=wasm 201'))).toBe(true);
    expect(logs.filter((l) => l.includes('not emulated'))).toEqual([]);
  });
});

describe('the ABI rules', () => {
  test('buffer too small gives $buflen with the size needed; an unsupported hostcall answers $unsupported and is logged; a streaming body', async () => {
    const logs: string[] = [];
    const { url } = await emulate(await writeWasm(dir, 'native.wasm', await watFixture('native.wat')), undefined, logs);
    const res = await request(url);
    expect(res.status).toBe(203);
    expect(res.headers).toContainEqual(['x-native', 'yes']);
    expect(res.body.toString()).toBe('4:3:5');
    expect(logs).toContain('  fastly emulator: fastly_kv_store.open is not emulated (answered $unsupported)');
  });
});

describe('limits', () => {
  let url: string;
  const logs: string[] = [];
  beforeAll(async () => {
    url = (await emulate(await writeWasm(dir, 'misbehave.wasm', await watFixture('misbehave.wat')), { memoryMiB: 16, timeoutMs: 400 }, logs)).url;
  });

  test('a runaway function gets a 504 within its timeout, and the emulator keeps answering', async () => {
    const t0 = performance.now();
    const res = await request(new URL('/?loop', url).href);
    const ms = performance.now() - t0;
    expect(res.status).toBe(504);
    // By its own timeout (400 ms), not some later one: a bound that only catches a hang.
    expect(ms).toBeGreaterThanOrEqual(390);
    expect(ms).toBeLessThan(10_000);
    const next = await request(url);
    expect(next.status).toBe(200);
    expect(next.body.toString()).toBe('ok');
  });

  test('the packaged main.wasm carries the cap itself (Fastly runs it without the emulator\'s help)', async () => {
    const artifact: Artifact = { name: 'capped', wasmPath: await writeWasm(dir, 'capped.wasm', await watFixture('misbehave.wat')), env: {}, secrets: [], limits: { memoryMiB: 16, timeoutMs: 10_000 } };
    const main = new Uint8Array(await readFile(mainWasmPath(await adapter.package(artifact))));
    // 16 MiB = 256 pages: the shipped module's own maximum, not something the emulator adds.
    expect(definedMemories(main).map((m) => m.maxPages)).toEqual([256]);
    // And the bomb in that very module stops there when run bare (no emulator cap, no pool).
    const module = await WebAssembly.compile(main as BufferSource);
    const result = await runFastly(module, downstream('http://localhost/?bomb'), { imports: readImports(main), memoryCapBytes: 16 * 1048576 });
    expect(result.outcome).toBe('memory');
    expect(result.response.status).toBe(500);
  });

  test('a memory bomb stops at the cap with a 500', async () => {
    const res = await request(new URL('/?bomb', url).href);
    expect(res.status).toBe(500);
    expect(res.body.toString()).toBe('500 Internal Server Error\n');
    // The 500 is the cap, not any trap: the log names it.
    expect(logs.find((l) => l.startsWith('GET /?bomb 500'))).toMatch(/memory limit reached \(16 MiB\)/);
    expect((await request(url)).status).toBe(200);
  });
});
