/**
 * The Fastly package: the layout `fastly compute pack` makes, accepted by the real Fastly
 * CLI's `fastly compute validate` (offline), and a main.wasm whose Fastly imports have the
 * very types a program built by Fastly's own toolchain imports.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'smol-toml';
import * as tar from 'tar';
import { beforeAll, describe, expect, test } from 'vitest';
import { adapter } from '../../../adapters/fastly/index.js';
import { checkMerged } from '../../../adapters/fastly/merge.js';
import { formatFuncType, readImports } from '../../../src/runtime/wasm-imports.js';
import type { Artifact, Bundle } from '../../../src/target/types.js';
import { compileWat } from '../../../adapters/fastly/adapter-module.js';
import { DEFAULT_OUTBOUND } from '../../../src/runtime/outbound/abi.js';
import { buildJsComputeHello, FIXTURES, watFixture } from './helpers.js';

const run = promisify(execFile);
const FASTLY_CLI = path.resolve(FIXTURES, '..', '..', '..', 'node_modules', '.bin', 'fastly');

let project: string;
let bundle: Bundle;
let main: Uint8Array;
/** A function that calls out (wfn_http_v1): the adapter's outbound part is in its main.wasm. */
let outboundBundle: Bundle;
let outboundMain: Uint8Array;

beforeAll(async () => {
  project = await mkdtemp(path.join(os.tmpdir(), 'wfn-fastly-package-'));
  const wasmPath = path.join(project, 'echo.wasm');
  await writeFile(wasmPath, await watFixture('echo.wat'));
  const artifact: Artifact = {
    name: 'Echo Fn',
    wasmPath,
    env: { GREETING: 'hi' },
    secrets: ['API_KEY'],
    limits: { memoryMiB: 128, timeoutMs: 10_000 },
    outbound: DEFAULT_OUTBOUND,
    projectDir: project,
  };
  bundle = await adapter.package(artifact);
  main = new Uint8Array(await readFile(path.join(bundle.dir, bundle.name, 'bin', 'main.wasm')));
  const proxyPath = path.join(project, 'proxy.wasm');
  await writeFile(proxyPath, await compileWat(await readFile(path.join(FIXTURES, '..', 'outbound', 'proxy.wat'), 'utf8'), 'proxy.wat'));
  const proxyProject = await mkdtemp(path.join(os.tmpdir(), 'wfn-fastly-package-proxy-'));
  outboundBundle = await adapter.package({
    ...artifact,
    name: 'proxy',
    wasmPath: proxyPath,
    outbound: { ...DEFAULT_OUTBOUND, allow: ['https://api.example.com', 'http://*.example.net:*'] },
    projectDir: proxyProject,
  });
  outboundMain = new Uint8Array(await readFile(path.join(outboundBundle.dir, outboundBundle.name, 'bin', 'main.wasm')));
});

describe('the package', () => {
  test('is pkg/<name>.tar.gz with <name>/fastly.toml and <name>/bin/main.wasm, under .wfn/targets/fastly', async () => {
    expect(bundle.target).toBe('fastly');
    expect(bundle.name).toBe('echo-fn');
    expect(bundle.dir).toBe(path.join(project, '.wfn', 'targets', 'fastly'));
    expect(bundle.archive).toBe(path.join(bundle.dir, 'pkg', 'echo-fn.tar.gz'));
    const entries: string[] = [];
    const contents = new Map<string, Buffer>();
    await tar.list({
      file: bundle.archive!,
      onReadEntry: (e) => {
        entries.push(e.path);
        const chunks: Buffer[] = [];
        e.on('data', (c: Buffer) => chunks.push(c));
        e.on('end', () => contents.set(e.path, Buffer.concat(chunks)));
      },
    });
    expect(entries).toEqual(['echo-fn/', 'echo-fn/bin/', 'echo-fn/bin/main.wasm', 'echo-fn/fastly.toml']);
    expect(Buffer.compare(contents.get('echo-fn/bin/main.wasm')!, Buffer.from(main))).toBe(0);
    const toml = parse(contents.get('echo-fn/fastly.toml')!.toString()) as Record<string, unknown>;
    expect(toml).toMatchObject({ manifest_version: 3, name: 'echo-fn', language: 'other', authors: [] });
    expect(typeof toml.description).toBe('string');
    expect(bundle.compressedSize).toBe((await readFile(bundle.archive!)).length);
    expect(bundle.warnings).toEqual([]);
  });

  test('the same function gives the same archive bytes', async () => {
    const first = await readFile(bundle.archive!);
    const again = await adapter.package(bundle.artifact);
    expect(Buffer.compare(await readFile(again.archive!), first)).toBe(0);
  });

  test('`fastly compute validate` (the Fastly CLI, offline) accepts it, and that of a function calling out', async () => {
    for (const b of [bundle, outboundBundle]) {
      const { stdout, stderr } = await run(FASTLY_CLI, ['compute', 'validate', '--package', b.archive!, '--non-interactive'], {
        timeout: 60_000,
        env: { ...process.env, FASTLY_API_TOKEN: '' },
      });
      expect(`${stdout}${stderr}`).toMatch(/Validated package/);
    }
  });

  test('main.wasm imports only fastly_* and preview1, validates, exports _start and memory', () => {
    expect(checkMerged(main)).toEqual([]);
    expect(checkMerged(outboundMain)).toEqual([]);
  });

  test('secrets come from a secret store, outbound calls from dynamic backends: only the functions that need them import those', () => {
    const names = (wasm: Uint8Array) => readImports(wasm).map((i) => `${i.module}.${i.name}`);
    expect(names(main)).toContain('fastly_secret_store.plaintext');
    expect(names(main)).not.toContain('fastly_http_req.send_async');
    expect(names(outboundMain)).toEqual(expect.arrayContaining(['fastly_http_req.register_dynamic_backend', 'fastly_http_req.send_async', 'fastly_http_req.pending_req_wait_v2', 'fastly_async_io.select']));
    expect(names(outboundMain).filter((n) => n.startsWith('wfn_http_v1'))).toEqual([]);
  });
});

describe('main.wasm against a program built by @fastly/js-compute', () => {
  test.each([
    ['a function with secrets', () => main],
    ['a function calling out', () => outboundMain],
  ])('every Fastly hostcall both import has the same type: %s', async (_name, wasm) => {
    const reference = readImports(new Uint8Array(await readFile(await buildJsComputeHello())));
    const refTypes = new Map(reference.map((i) => [`${i.module}.${i.name}`, formatFuncType(i.type)]));
    const ours = readImports(wasm()).filter((i) => i.module.startsWith('fastly_'));
    expect(ours.length).toBeGreaterThan(10);
    const compared: string[] = [];
    for (const imp of ours) {
      const key = `${imp.module}.${imp.name}`;
      const want = refTypes.get(key);
      if (want === undefined) continue;
      compared.push(key);
      expect(`${key} ${formatFuncType(imp.type)}`).toBe(`${key} ${want}`);
    }
    // js-compute does not call fastly_abi.init; the witx: (abi_version u64) -> status
    const init = ours.find((i) => i.module === 'fastly_abi' && i.name === 'init');
    expect(formatFuncType(init?.type)).toBe('(i64) -> (i32)');
    expect(compared.length).toBe(ours.length - 1);
  });
});
