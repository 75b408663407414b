// `wfn dev --target cloudflare`: the packaged bundle in the real workerd behind the front proxy.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Artifact } from '../../../src/target/types.js';
import { adapter } from '../../../adapters/cloudflare/index.js';
import { startCloudflareEmulator, type CloudflareEmulator } from '../../../adapters/cloudflare/emulator.js';
import { ENV_DUMP_WAT, MEMORY_BOMB_WAT, writeOnce } from '../../fixtures/contract.js';
import { request } from '../../helpers/http.js';
import { wat2wasm } from '../../helpers/wat.js';
import { until } from '../../helpers/wait.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wfn-cf-emulator-'));
});

async function artifact(name: string, wat: string, extra: Partial<Artifact> = {}): Promise<Artifact> {
  const wasmPath = path.join(dir, `${name}.wasm`);
  await writeFile(wasmPath, await wat2wasm(wat));
  return { name, wasmPath, env: {}, secrets: [], limits: { memoryMiB: 16, timeoutMs: 10_000 }, projectDir: path.join(dir, name), ...extra };
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** Loops forever when the request has a query (argv has more than the path), else answers "ok". */
const LOOP_ON_QUERY_WAT = `(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $args (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "Content-Type: text/plain\\n\\nok")
  (func (export "_start")
    (drop (call $args (i32.const 0) (i32.const 4)))
    (if (i32.gt_u (i32.load (i32.const 0)) (i32.const 1)) (then (loop $forever (br $forever))))
    (i32.store (i32.const 8) (i32.const 64))
    (i32.store (i32.const 12) (i32.const 28))
    (drop (call $fd_write (i32.const 1) (i32.const 8) (i32.const 1) (i32.const 16)))))`;

describe('cloudflare emulator (real workerd)', () => {
  const logs: string[] = [];
  let env: CloudflareEmulator;
  beforeAll(async () => {
    const a = await artifact('cf-env', ENV_DUMP_WAT, { env: { GREETING: 'hello "world"', REQUEST_METHOD: 'configured' }, secrets: ['CF_TEST_SECRET', 'CF_TEST_UNSET'] });
    const bundle = await adapter.package(a);
    env = await startCloudflareEmulator(bundle, { host: '127.0.0.1', port: 0, log: (l) => logs.push(l), env: { ...process.env, CF_TEST_SECRET: 'from-the-environment' } });
  });
  afterAll(async () => {
    await env?.close();
  });

  it('passes variables as plain bindings and secrets from the environment, built-ins winning', async () => {
    const res = await request(new URL('a/b%20c?x=1&y=2', env.url).href, { headers: [['cookie', 'a=1'], ['cookie', 'b=2'], ['x-custom', 'v']] });
    expect(res.status).toBe(200);
    const vars = new Map(text(res.body).split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(vars.get('GREETING')).toBe('hello "world"');
    expect(vars.get('CF_TEST_SECRET')).toBe('from-the-environment');
    expect(vars.has('CF_TEST_UNSET')).toBe(false);
    expect(vars.has('WFN_EMULATOR')).toBe(false);
    expect(vars.get('REQUEST_METHOD')).toBe('GET');
    expect(vars.get('PATH_INFO')).toBe('/a/b c');
    expect(vars.get('QUERY_STRING')).toBe('x=1&y=2');
    expect(vars.get('HTTP_COOKIE')).toBe('a=1; b=2');
    expect(vars.get('HTTP_X_CUSTOM')).toBe('v');
    expect(vars.get('REMOTE_ADDR')).toBe('127.0.0.1');
    expect(vars.get('X_FULL_URL')).toBe(new URL('a/b%20c?x=1&y=2', env.url).href);
    // the proxy strips the shim's bookkeeping headers
    expect(res.headers.map(([k]) => k)).not.toContain('x-wfn-timings');
    expect(res.headers.map(([k]) => k)).not.toContain('x-wfn-reason');
    expect(logs.some((l) => /^GET \/a\/b%20c\?x=1&y=2 200 \d+B inst=\d+µs run=[\d.]+ms total=[\d.]+ms$/.test(l))).toBe(true);
  });

  it('warned about the unset secret at startup', () => {
    expect(logs.some((l) => l.includes('CF_TEST_UNSET'))).toBe(true);
  });

  it('a runaway loop gets a 504 within the timeout, workerd is restarted, and the emulator keeps answering', async () => {
    const loopLogs: string[] = [];
    const bundle = await adapter.package(await artifact('cf-loop', LOOP_ON_QUERY_WAT, { limits: { memoryMiB: 16, timeoutMs: 700 } }));
    const emu = await startCloudflareEmulator(bundle, { host: '127.0.0.1', port: 0, log: (l) => loopLogs.push(l) });
    try {
      expect(text((await request(emu.url)).body)).toBe('ok');
      const started = performance.now();
      // a runaway request and, meanwhile, an ordinary one stuck behind it in the blocked isolate
      // (sent together: whichever workerd takes first, neither may hang)
      const [res, bystander] = await Promise.all([
        request(new URL('?spin=1', emu.url).href, { timeoutMs: 20_000 }),
        request(emu.url, { timeoutMs: 20_000 }),
      ]);
      const elapsed = performance.now() - started;
      expect(res.status).toBe(504);
      expect(text(res.body)).toBe('504 Gateway Timeout\n');
      // Not before the timeout; after it, a bound that only catches a hang (the client gives up at 20 s).
      expect(elapsed).toBeGreaterThanOrEqual(650);
      expect(elapsed).toBeLessThan(15_000);
      expect([200, 503, 504]).toContain(bystander.status); // answered, never hung
      expect(loopLogs.some((l) => l.startsWith('GET /?spin=1 504') && l.includes('timeout:'))).toBe(true);
      // a fresh workerd answers the next requests
      for (let i = 0; i < 3; i++) {
        const next = await request(emu.url, { timeoutMs: 10_000 });
        expect(next.status).toBe(200);
        expect(text(next.body)).toBe('ok');
      }
      expect(emu.starts).toBe(2);
    } finally {
      await emu.close();
    }
  });

  it('a memory bomb stops at the cap with a 500 and a memory reason', async () => {
    const bombLogs: string[] = [];
    const bundle = await adapter.package(await artifact('cf-bomb', MEMORY_BOMB_WAT, { limits: { memoryMiB: 8, timeoutMs: 10_000 } }));
    const emu = await adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: (l) => bombLogs.push(l) });
    try {
      const res = await request(emu.url);
      expect(res.status).toBe(500);
      expect(text(res.body)).toBe('500 Internal Server Error\n');
      expect(bombLogs.some((l) => l.startsWith('GET / 500') && l.includes('memory: memory limit reached (8 MiB)'))).toBe(true);
      // and the same Worker keeps answering
      expect((await request(emu.url)).status).toBe(500);
    } finally {
      await emu.close();
    }
  });

  it('function stderr reaches the log; binary bodies and repeated Set-Cookie survive', async () => {
    const lines: string[] = [];
    const bytes = new Uint8Array([0, 1, 2, 255, 254, 13, 10, 0x80]);
    const head = new TextEncoder().encode('Content-Type: application/octet-stream\nSet-Cookie: a=1\nSet-Cookie: b=2\n\n');
    const out = new Uint8Array(head.length + bytes.length);
    out.set(head);
    out.set(bytes, head.length);
    const bundle = await adapter.package(await artifact('cf-bin', writeOnce({ stdout: out, stderr: 'logged line\n' })));
    const emu = await adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: (l) => lines.push(l) });
    try {
      const res = await request(emu.url);
      expect(res.status).toBe(200);
      expect([...res.body]).toEqual([...bytes]);
      expect(res.headers.filter(([k]) => k === 'set-cookie').map(([, v]) => v)).toEqual(['a=1', 'b=2']);
      await until('the stderr line in the log', () => lines.includes('logged line'));
    } finally {
      await emu.close();
    }
  });
});
