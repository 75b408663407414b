import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { buildProject } from '../../src/pipeline/build.js';
import { inspectWasm } from '../../src/pipeline/inspect.js';
import { scaffoldProject } from '../../src/project/scaffold.js';
import { invokeHttp } from '../../src/runtime/invoke.js';
import { itWithToolchain } from '../helpers/toolchain-gate.js';
import { wat2wasm } from '../helpers/wat.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/**
 * A minimal WASI preview1 host, written here independently of src/runtime, to show a
 * snapshotted artifact needs nothing wfn-specific: environ, fd_read/fd_write, proc_exit,
 * and ENOSYS for anything else.
 */
async function runOnPlainHost(wasm: Uint8Array, env: Record<string, string>): Promise<{ stdout: string; stderr: string }> {
  const module = await WebAssembly.compile(wasm);
  let memory!: WebAssembly.Memory;
  const out: number[][] = [[], [], []];
  const envStrings = Object.entries(env).map(([k, v]) => new TextEncoder().encode(`${k}=${v}\0`));
  const wasi: Record<string, (...a: number[]) => number> = {
    environ_sizes_get(countPtr, sizePtr) {
      const v = new DataView(memory.buffer);
      v.setUint32(countPtr, envStrings.length, true);
      v.setUint32(sizePtr, envStrings.reduce((n, s) => n + s.length, 0), true);
      return 0;
    },
    environ_get(ptrs, buf) {
      const v = new DataView(memory.buffer);
      envStrings.forEach((s, i) => {
        v.setUint32(ptrs + 4 * i, buf, true);
        new Uint8Array(memory.buffer).set(s, buf);
        buf += s.length;
      });
      return 0;
    },
    fd_write(fd, iovs, n, written) {
      const v = new DataView(memory.buffer);
      let total = 0;
      for (let i = 0; i < n; i++) {
        const ptr = v.getUint32(iovs + 8 * i, true);
        const len = v.getUint32(iovs + 8 * i + 4, true);
        for (const byte of new Uint8Array(memory.buffer, ptr, len)) out[fd].push(byte);
        total += len;
      }
      v.setUint32(written, total, true);
      return 0;
    },
    fd_read(_fd, _iovs, _n, read) {
      new DataView(memory.buffer).setUint32(read, 0, true);
      return 0;
    },
    proc_exit(code) {
      throw new Error(`exit ${code}`);
    },
  };
  const imports: Record<string, Record<string, unknown>> = { wasi_snapshot_preview1: {} };
  for (const imp of WebAssembly.Module.imports(module)) {
    expect(imp.module).toBe('wasi_snapshot_preview1');
    imports.wasi_snapshot_preview1[imp.name] = wasi[imp.name] ?? (() => 52);
  }
  const instance = await WebAssembly.instantiate(module, imports as WebAssembly.Imports);
  memory = instance.exports.memory as WebAssembly.Memory;
  (instance.exports._start as () => void)();
  return { stdout: text(new Uint8Array(out[1])), stderr: text(new Uint8Array(out[2])) };
}

async function project(language: string, template: string) {
  const parent = await mkdtemp(path.join(tmpdir(), `wfn-snap-${language}-`));
  const p = await scaffoldProject(`snap-${template}`, language, template, parent);
  return loadConfig(p.dir);
}

async function ask(wasm: Uint8Array, query: string) {
  const module = await WebAssembly.compile(wasm);
  const r = await invokeHttp(module, { method: 'GET', url: `http://localhost/?${query}`, headers: [], body: new Uint8Array(0) }, { route: '/', env: {} });
  return { status: r.response.status, body: text(r.response.body), stderr: text(r.stderr) };
}

const QUERIES = ['n=97', 'n=1000000', 'n=0', 'n=2', 'n=29999999', 'n=abc'];

async function snapshotCase(language: 'assemblyscript' | 'rust') {
  const config = await project(language, 'init');
  const withSnapshot = await buildProject(config, { noSmoke: true });
  expect(withSnapshot.manifest.snapshot.enabled).toBe(true);
  expect(withSnapshot.manifest.steps.map((s) => s.name)).toEqual(['compile', 'snapshot', 'optimize', 'validate']);
  const snapBytes = await readFile(withSnapshot.artifact);
  const without = await buildProject(config, { snapshot: false, noSmoke: true });
  expect(without.manifest.snapshot.enabled).toBe(false);
  const plainBytes = await readFile(without.artifact);
  expect(snapBytes.length).toBeGreaterThan(plainBytes.length); // the table ships in the data section

  for (const q of QUERIES) {
    const a = await ask(snapBytes, q);
    const b = await ask(plainBytes, q);
    expect({ status: a.status, body: a.body }).toEqual({ status: b.status, body: b.body });
    if (a.status === 200) {
      expect(a.stderr).toBe(''); // the snapshot did the start-up work
      expect(b.stderr).toMatch(/building the prime table now/);
    }
  }
  expect(JSON.parse((await ask(snapBytes, 'n=97')).body)).toEqual({ n: 97, prime: true, primesUpToN: 25, nextPrime: 101 });

  // Any plain WASI preview1 host runs the snapshot: no wfn import or section is needed.
  const plain = await runOnPlainHost(snapBytes, { REQUEST_METHOD: 'GET', QUERY_STRING: 'n=1000000', PATH_INFO: '/' });
  expect(plain.stdout).toContain('{"n":1000000,"prime":false,"primesUpToN":78498,"nextPrime":1000003}');
  expect(plain.stderr).toBe('');

  const info = await inspectWasm(snapBytes);
  expect(info.snapshot.likely).toBe(true);
  expect(info.contract.conforms).toBe(true);
  expect((await inspectWasm(plainBytes)).snapshot.likely).toBe(false);
}

describe('snapshots (Wizer)', async () => {
  it('AssemblyScript init: same answers with and without the snapshot; runs on a plain WASI host', () => snapshotCase('assemblyscript'), 180_000);
  (await itWithToolchain('rust'))('Rust init: same answers with and without the snapshot; runs on a plain WASI host', () => snapshotCase('rust'), 300_000);
});

describe('build cache and wasm-opt levels', () => {
  it('a no-op when nothing changed; any input change rebuilds', async () => {
    const config = await project('assemblyscript', 'http');
    const first = await buildProject(config, { noSmoke: true });
    expect(first.cached).toBe(false);
    expect((await buildProject(config, { noSmoke: true })).cached).toBe(true);

    const source = path.join(config.dir, 'assembly', 'index.ts');
    await writeFile(source, (await readFile(source, 'utf8')) + '\n// a comment\n');
    expect((await buildProject(config, { noSmoke: true })).cached).toBe(false);
    expect((await buildProject(config, { noSmoke: true })).cached).toBe(true);

    expect((await buildProject(config, { noSmoke: true, optimize: 'Oz' })).cached).toBe(false); // flags
    await writeFile(config.file, (await readFile(config.file, 'utf8')).replace('timeout = 10000', 'timeout = 9000'));
    const edited = await loadConfig(config.dir);
    expect((await buildProject(edited, { noSmoke: true })).cached).toBe(false); // wfn.toml
    expect((await buildProject(edited, { noSmoke: true, force: true })).cached).toBe(false);
  }, 180_000);

  it('O3, Oz and none give valid modules of different sizes', async () => {
    const config = await project('assemblyscript', 'fib');
    const sizes: Record<string, number> = {};
    for (const level of ['none', 'O3', 'Oz'] as const) {
      const r = await buildProject(config, { optimize: level, noSmoke: true });
      sizes[level] = r.size;
      expect(r.manifest.optimize.level).toBe(level);
      const res = await ask(await readFile(r.artifact), 'n=20');
      expect(res.body).toBe('{"n":20,"fib":6765}');
    }
    expect(sizes.O3).toBeLessThan(sizes.none);
    expect(sizes.Oz).toBeLessThanOrEqual(sizes.O3);
  }, 180_000);
});

describe('wfn inspect on hidden corners', () => {
  it('a module without a memory export', async () => {
    const info = await inspectWasm(await wat2wasm('(module (memory 1) (func (export "_start")))'));
    expect(info.contract.conforms).toBe(false);
    expect(info.contract.problems).toContain('export "memory" is missing: the host needs the module\'s memory to pass the request');
    expect(info.memories).toEqual([{ index: 0, initialPages: 1, maxPages: undefined, initialBytes: 65536, shared: false, memory64: false }]);
  });

  it('imports outside WASI are named', async () => {
    const info = await inspectWasm(await wat2wasm('(module (import "env" "now" (func)) (import "wasi_snapshot_preview1" "not_a_call" (func)) (memory (export "memory") 1) (func (export "_start")))'));
    expect(info.contract.problems).toEqual([
      'import "env.now" is not allowed: a function may import only from wasi_snapshot_preview1 (and wfn_http_v1 for outbound HTTP, wfn_kv_v1 for key-value)',
      'import "wasi_snapshot_preview1.not_a_call" is not a WASI preview1 function',
    ]);
    expect(info.imports.map((i) => `${i.module}.${i.name}`)).toEqual(['env.now', 'wasi_snapshot_preview1.not_a_call']);
  });

  it('multiple memories, data and custom sections', async () => {
    const { default: wabtInit } = await import('wabt');
    const wabt = await wabtInit();
    const m = wabt.parseWat('multi.wat', '(module (memory (export "memory") 1 4) (memory 2) (data (i32.const 8) "hello") (func (export "_start")))', { multi_memory: true });
    const bytes = new Uint8Array(m.toBinary({}).buffer);
    m.destroy();
    const info = await inspectWasm(bytes);
    expect(info.memories.map((x) => [x.initialPages, x.maxPages])).toEqual([[1, 4], [2, undefined]]);
    expect(info.dataBytes).toBe(5);
    expect(info.sections.map((s) => s.name)).toContain('data');
  });

  it('not WebAssembly at all', async () => {
    await expect(inspectWasm(new TextEncoder().encode('#!/bin/sh\necho hi\n'))).rejects.toThrow(/not a WebAssembly binary/);
  });
});
