// The component target: the package is a wasi:http/proxy component and nothing more (its world,
// read back from the binary), wfn inspect shows that world, an 8 MiB response streams out of
// jco serve while the function still runs, a looping function is stopped (its jco serve with
// it), and a module that breaks the contract is refused with the import named.
import { readFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import http from 'node:http';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { adapter, componentPath } from '../../../adapters/component/index.js';
import { startComponentEmulator, type ComponentEmulator } from '../../../src/server/component/emulator.js';
import { checkLinked, linkComponent } from '../../../src/pipeline/component/link.js';
import { componentWorld, proxyWorldProblems } from '../../../src/pipeline/component-world.js';
import { artifactFrom } from '../../../src/project/artifact.js';
import { UserError } from '../../../src/util/errors.js';
import { BAD_IMPORT_WAT, LOOP_WAT } from '../../fixtures/contract.js';
import { wfn } from '../../helpers/cli.js';
import { request } from '../../helpers/http.js';
import { buildTemplate } from '../../helpers/templates.js';
import { wat2wasm } from '../../helpers/wat.js';

vi.setConfig({ testTimeout: 600_000 });

const PRELUDE = `
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))`;

/**
 * 8 MiB of body: 4 MiB, then a 300 ms sleep (poll_oneoff on a clock), then the wall-clock time
 * (ns, 8 bytes) and the rest. A client that holds the first bytes before that time saw the
 * response stream while the function was still running.
 */
const STREAM_8MIB_WAT = `(module ${PRELUDE}
  (memory (export "memory") 80)
  (data (i32.const 16) "Content-Type: application/octet-stream\\n\\n")
  (func $out (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start") (local $i i32)
    (loop $fill
      (i32.store8 (i32.add (i32.const 65536) (local.get $i)) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $fill (i32.lt_u (local.get $i) (i32.const 4194304))))
    (call $out (i32.const 16) (i32.const 40))
    (call $out (i32.const 65536) (i32.const 4194304))
    ;; one clock subscription at 1024: relative, 300 ms; the event goes to 2048, the count to 12
    (i64.store (i32.const 1024) (i64.const 7))
    (i32.store8 (i32.const 1032) (i32.const 0))
    (i32.store (i32.const 1040) (i32.const 1))
    (i64.store (i32.const 1048) (i64.const 300000000))
    (i64.store (i32.const 1056) (i64.const 0))
    (i32.store16 (i32.const 1064) (i32.const 0))
    (drop (call $poll (i32.const 1024) (i32.const 2048) (i32.const 1) (i32.const 12)))
    (drop (call $clock (i32.const 0) (i64.const 0) (i32.const 3000)))
    (call $out (i32.const 3000) (i32.const 8))
    (call $out (i32.const 65536) (i32.const 4194296))))`;

/** 200,000 bytes of body (past the 64 KiB the bridge holds), then proc_exit(code). */
const lateExit = (code: number) => `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 8)
  (data (i32.const 16) "Content-Type: text/plain\\n\\n")
  (func $out (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (memory.fill (i32.const 65536) (i32.const 97) (i32.const 200000))
    (call $out (i32.const 16) (i32.const 26))
    (call $out (i32.const 65536) (i32.const 200000))
    (call $exit (i32.const ${code}))))`;

/** GET, noting whether the response completed (a cut-off one ends in 'aborted' or an error). */
function getAll(url: string): Promise<{ status: number; body: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: res.complete }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), complete: false }));
    }).on('error', reject);
  });
}

async function fixture(wat: string, name: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'wfn-component-'));
  const file = path.join(dir, `${name}.wasm`);
  await writeFile(file, await wat2wasm(wat));
  return file;
}

const emulators: ComponentEmulator[] = [];
afterAll(async () => {
  await Promise.all(emulators.map((e) => e.close()));
});

describe('component package', () => {
  it('is a wasi:http/proxy component: imports only what that world allows, exports the incoming handler', async () => {
    const wasmPath = await buildTemplate('assemblyscript', 'http');
    const bundle = await adapter.package(await artifactFrom({ kind: 'wasm', path: wasmPath }, {}));
    // Named after the function (here the shared template cache's file name).
    expect(bundle.files.map((f) => f.path)).toEqual([`${path.basename(wasmPath, '.wasm')}.component.wasm`]);
    const bytes = new Uint8Array(await readFile(componentPath(bundle)));
    const world = await componentWorld(bytes);
    expect(proxyWorldProblems(world)).toEqual([]);
    expect(world.exports).toEqual(['wasi:http/incoming-handler@0.2.12']);
    expect(world.imports).toContain('wasi:http/types@0.2.12');
    for (const name of world.imports) expect(name).toMatch(/^wasi:(http\/types|io\/(error|poll|streams)|clocks\/(monotonic|wall)-clock|random\/random|cli\/std(out|err|in))@0\.2\.12$/);
  });

  it('the world check catches a component beyond the proxy world (jco\'s own preview1 adapter brings wasi:filesystem for fd_write)', async () => {
    const jco = await import('@bytecodealliance/jco');
    const { witSource, BRIDGE_WORLD } = await import('../../../src/pipeline/component/wit.js');
    const core = await wat2wasm(`(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (import "wasi:http/types@0.2.12" "[resource-drop]incoming-request" (func $drop (param i32)))
      (memory (export "memory") 1)
      (func (export "wasi:http/incoming-handler@0.2.12#handle") (param i32 i32)
        (drop (call $w (i32.const 2) (i32.const 0) (i32.const 0) (i32.const 0)))
        (call $drop (local.get 0))))`);
    const embedded = await jco.componentEmbed({ binary: core, witSource: witSource(), world: BRIDGE_WORLD });
    const component = await jco.componentNew(embedded, [['wasi_snapshot_preview1', await readFile(new URL(jco.preview1AdapterReactorPath()))]]);
    const problems = proxyWorldProblems(await componentWorld(component));
    expect(problems.join('\n')).toMatch(/imports wasi:filesystem\/types@0\.2\.12, which wasi:http\/proxy does not allow/);
  });

  it('the linked core module imports nothing outside the proxy world, and the check says which import is', async () => {
    const linked = await linkComponent(await wat2wasm(LOOP_WAT), { env: {}, memoryMiB: 16 });
    expect(checkLinked(linked.core)).toEqual([]);
    const { renameImports } = await import('../../../src/runtime/wasm-imports.js');
    const stray = renameImports(linked.core, (imp) => (imp.name === 'get-stderr' ? { module: 'wasi:cli/environment@0.2.12', name: 'get-environment' } : imp));
    expect(checkLinked(stray)).toEqual(['import wasi:cli/environment@0.2.12.get-environment is outside the wasi:http/proxy world']);
  });

  it('a module that breaks the contract is refused, naming the import', async () => {
    const artifact = await artifactFrom({ kind: 'wasm', path: await fixture(BAD_IMPORT_WAT, 'bad') }, {}).catch((e) => e);
    // (artifactFrom checks the contract itself; packaging the raw module checks again)
    const refusal = artifact instanceof Error ? artifact : await adapter.package(artifact).catch((e) => e);
    expect(refusal).toBeInstanceOf(UserError);
    expect(String(refusal.message)).toMatch(/env\.abort/);
  });

  it('wfn inspect shows a component\'s world (and --json says whether it is a proxy component)', async () => {
    const bundle = await adapter.package(await artifactFrom({ kind: 'wasm', path: await fixture(LOOP_WAT, 'loop') }, {}));
    const text = await wfn(['inspect', componentPath(bundle)]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/a component/);
    expect(text.stdout).toMatch(/wasi:http\/proxy: yes/);
    expect(text.stdout).toMatch(/exports \(1\):\n {2}wasi:http\/incoming-handler@0\.2\.12/);
    const json = await wfn(['inspect', componentPath(bundle), '--json']);
    const info = JSON.parse(json.stdout) as { kind: string; proxy: { conforms: boolean }; world: { imports: string[]; exports: string[] } };
    expect(info.kind).toBe('component');
    expect(info.proxy.conforms).toBe(true);
    expect(info.world.exports).toEqual(['wasi:http/incoming-handler@0.2.12']);
  });
});

describe('component emulator (jco serve)', () => {
  it('streams an 8 MiB response: the first bytes arrive while the function is still running', async () => {
    const bundle = await adapter.package(await artifactFrom({ kind: 'wasm', path: await fixture(STREAM_8MIB_WAT, 'stream') }, {}));
    const emulator = await startComponentEmulator(componentPath(bundle), { host: '127.0.0.1', port: 0, log: () => {}, timeoutMs: 60_000, poolSize: 1 });
    emulators.push(emulator);
    const { firstChunkAtMs, body, status } = await new Promise<{ firstChunkAtMs: number; body: Buffer; status: number }>((resolve, reject) => {
      http.get(emulator.url, (res) => {
        const chunks: Buffer[] = [];
        let firstChunkAtMs = 0;
        res.on('data', (c: Buffer) => {
          if (chunks.length === 0) firstChunkAtMs = Date.now();
          chunks.push(c);
        });
        res.on('end', () => resolve({ firstChunkAtMs, body: Buffer.concat(chunks), status: res.statusCode ?? 0 }));
        res.on('error', reject);
      }).on('error', reject);
    });
    expect(status).toBe(200);
    expect(body.length).toBe(8 * 1024 * 1024);
    for (const at of [0, 255, 4194303, 4194304 + 8, body.length - 1]) {
      const i = at < 4194304 ? at : at - 4194304 - 8;
      expect(body[at], `byte ${at}`).toBe(i & 255);
    }
    // The function's clock after its sleep (ns): later than the client's first chunk (ms).
    const stampNs = body.readBigUInt64LE(4194304);
    expect(BigInt(firstChunkAtMs) * 1_000_000n).toBeLessThan(stampNs);
  });

  it('a failure after the response started cuts the response off; exit 0 there completes it', async () => {
    for (const [code, complete] of [[3, false], [0, true]] as const) {
      const bundle = await adapter.package(await artifactFrom({ kind: 'wasm', path: await fixture(lateExit(code), `late-${code}`) }, {}));
      const lines: string[] = [];
      const emulator = await startComponentEmulator(componentPath(bundle), { host: '127.0.0.1', port: 0, log: (l) => lines.push(l), timeoutMs: 60_000, poolSize: 1 });
      emulators.push(emulator);
      const got = await getAll(emulator.url);
      expect(got.status).toBe(200);
      expect(got.complete, `exit ${code}`).toBe(complete);
      if (complete) expect(got.body.equals(Buffer.alloc(200000, 97))).toBe(true);
      else {
        expect(got.body.length).toBeLessThanOrEqual(200000);
        expect(got.body.toString()).not.toMatch(/Isolated component request failed/);
        expect(lines.join('\n')).toMatch(/trap: the function failed after its response started/);
      }
    }
  });

  it('stops a looping function: 504 at the timeout, jco serve (the loop\'s process group) replaced, the next request answered too', async () => {
    const bundle = await adapter.package(await artifactFrom({ kind: 'wasm', path: await fixture(LOOP_WAT, 'loop') }, {}));
    const lines: string[] = [];
    const emulator = await startComponentEmulator(componentPath(bundle), { host: '127.0.0.1', port: 0, log: (l) => lines.push(l), timeoutMs: 1500, poolSize: 1 });
    emulators.push(emulator);
    const first = await emulator.hostPid();
    const res = await request(emulator.url, { timeoutMs: 60_000 });
    expect(res.status).toBe(504);
    expect(res.body.toString()).toBe('504 Gateway Timeout\n');
    expect(lines.join('\n')).toMatch(/GET \/ 504 .* timeout: the function ran longer than its timeout \(1500 ms\)/);
    const second = await emulator.hostPid();
    expect(second).not.toBe(first);
    // the old group is gone: signal 0 to it fails
    expect(() => process.kill(-first, 0)).toThrow();
    const again = await request(emulator.url, { timeoutMs: 60_000 });
    expect(again.status).toBe(504);
    expect(emulator.starts).toBe(3);
  });
});
