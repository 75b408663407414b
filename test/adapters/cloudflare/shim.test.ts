// The Worker entry's fetch handler, run directly in Node (it is platform-neutral): the very
// worker.js the package ships (shim + runtime bundled by esbuild) with the capped .wasm beside
// it, as Cloudflare would execute them, without workerd (the emulator tests run workerd).
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { adapter } from '../../../adapters/cloudflare/index.js';
import { ENTRY_FILE, wasmFileName } from '../../../adapters/cloudflare/package.js';
import { MAX_STDERR_LINES } from '../../../adapters/cloudflare/shim.js';
import { EMULATOR_BINDING, REASON_HEADER, TIMINGS_HEADER } from '../../../adapters/cloudflare/protocol.js';
import { DEFAULT_OUTBOUND } from '../../../src/runtime/outbound/abi.js';
import { ENV_DUMP_WAT, MEMORY_PROBE_WAT, probePages, withinCap, writeOnce } from '../../fixtures/contract.js';
import { wat2wasm } from '../../helpers/wat.js';

interface ShippedWorker {
  fetch(request: Request, env: Record<string, unknown>): Promise<Response>;
}

/** Modules the loaded worker.js files import as their `.wasm` (Cloudflare hands a WebAssembly.Module). */
const WASM_MODULES = '__wfnShimTestWasm';
let packaged = 0;

/**
 * Packages `wat` for Cloudflare (env GREETING, secret API_KEY, 16 MiB) and loads the bundle's
 * worker.js: its one `import x from "./<name>.wasm"` becomes the compiled shipped .wasm.
 */
async function shippedWorker(wat: string): Promise<ShippedWorker> {
  const name = `shim-test-${++packaged}`;
  const dir = await mkdtemp(path.join(tmpdir(), 'wfn-cf-shim-'));
  const wasmPath = path.join(dir, 'fn.wasm');
  await writeFile(wasmPath, await wat2wasm(wat));
  const bundle = await adapter.package({
    name, wasmPath, env: { GREETING: 'unused' }, secrets: ['API_KEY'], limits: { memoryMiB: 16, timeoutMs: 10_000 }, outbound: DEFAULT_OUTBOUND, projectDir: dir,
  });
  const source = await readFile(path.join(bundle.dir, ENTRY_FILE), 'utf8');
  const wasmImport = new RegExp(`import\\s*([\\w$]+)\\s*from\\s*"\\./${wasmFileName(name).replace('.', '\\.')}";?`);
  expect(source).toMatch(wasmImport);
  const registry = ((globalThis as Record<string, unknown>)[WASM_MODULES] ??= {}) as Record<string, WebAssembly.Module>;
  registry[name] = await WebAssembly.compile(await readFile(path.join(bundle.dir, wasmFileName(name))));
  const runnable = path.join(dir, 'worker.mjs');
  await writeFile(runnable, source.replace(wasmImport, (_m, id: string) => `const ${id} = globalThis.${WASM_MODULES}[${JSON.stringify(name)}];`));
  return (await import(pathToFileURL(runnable).href)).default as ShippedWorker;
}

describe('cloudflare Worker shim', () => {
  it('maps bindings, CF-Connecting-IP and joined cookies into CGI; ignores other bindings', async () => {
    const worker = await shippedWorker(ENV_DUMP_WAT);
    const req = new Request('https://fn.example.workers.dev/a%20b?q=1', { headers: [['cookie', 'a=1'], ['cookie', 'b=2'], ['cf-connecting-ip', '203.0.113.9']] });
    const res = await worker.fetch(req, { GREETING: 'hi', API_KEY: 'k', OTHER_BINDING: 'no', [EMULATOR_BINDING]: undefined });
    const vars = new Map((await res.text()).split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(vars.get('GREETING')).toBe('hi');
    expect(vars.get('API_KEY')).toBe('k');
    expect(vars.has('OTHER_BINDING')).toBe(false);
    expect(vars.get('REMOTE_ADDR')).toBe('203.0.113.9');
    expect(vars.get('HTTP_COOKIE')).toBe('a=1; b=2');
    expect(vars.get('PATH_INFO')).toBe('/a b');
    expect(vars.get('SERVER_PORT')).toBe('443');
    expect(res.headers.has(TIMINGS_HEADER)).toBe(false);
  });

  it('keeps repeated Set-Cookie and binary bodies; adds timings only under the emulator binding', async () => {
    const head = new TextEncoder().encode('Content-Type: application/octet-stream\nSet-Cookie: a=1\nSet-Cookie: b=2\n\n');
    const out = new Uint8Array([...head, 0, 255, 13, 10, 128]);
    const worker = await shippedWorker(writeOnce({ stdout: out }));
    const res = await worker.fetch(new Request('https://x.workers.dev/'), {});
    expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect([...new Uint8Array(await res.arrayBuffer())]).toEqual([0, 255, 13, 10, 128]);
    expect(res.headers.has(TIMINGS_HEADER)).toBe(false);
    const emulated = await worker.fetch(new Request('https://x.workers.dev/'), { [EMULATOR_BINDING]: '1' });
    expect(emulated.headers.get(TIMINGS_HEADER)).toMatch(/^i=\d+;r=\d+;o=ok$/);
  });

  it('answers the shared 5xx bodies, with the reason only for the emulator', async () => {
    const trap = await shippedWorker(writeOnce({ stdout: 'Content-Type: text/plain\n\nx', then: 'trap' }));
    const res = await trap.fetch(new Request('https://x.workers.dev/'), { [EMULATOR_BINDING]: '1' });
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('500 Internal Server Error\n');
    expect(decodeURIComponent(res.headers.get(REASON_HEADER)!)).toMatch(/^the function trapped/);
    const malformed = await shippedWorker(writeOnce({ stdout: 'no headers here' }));
    const bad = await malformed.fetch(new Request('https://x.workers.dev/'), {});
    expect(bad.status).toBe(502);
    expect(bad.headers.has(REASON_HEADER)).toBe(false);
  });

  it('the shipped .wasm carries the 16 MiB cap: memory.grow fails there', async () => {
    const res = await (await shippedWorker(MEMORY_PROBE_WAT)).fetch(new Request('https://x.workers.dev/'), {});
    expect(res.status).toBe(200);
    const pages = probePages(new Uint8Array(await res.arrayBuffer()));
    expect(withinCap(pages, 16), `${pages} pages`).toBe(true);
  });

  it('sends no body with 204 and refuses a status the Response cannot carry with a 502', async () => {
    const noContent = await shippedWorker(writeOnce({ stdout: 'Status: 204 No Content\n\nignored' }));
    const res = await noContent.fetch(new Request('https://x.workers.dev/'), {});
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    const weird = await shippedWorker(writeOnce({ stdout: 'Status: 999 Odd\n\n' }));
    expect((await weird.fetch(new Request('https://x.workers.dev/'), {})).status).toBe(502);
  });

  it('logs each stderr line with its own console.error (one tail log entry per line), at most MAX_STDERR_LINES', async () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const worker = await shippedWorker(writeOnce({ stdout: 'Content-Type: text/plain\n\nok', stderr: 'first line\r\nsecond line\n\nfourth\n' }));
      expect((await worker.fetch(new Request('https://x.workers.dev/'), {})).status).toBe(200);
      expect(spy.mock.calls).toEqual([['first line'], ['second line'], [''], ['fourth']]);

      spy.mockClear();
      const many = Array.from({ length: MAX_STDERR_LINES + 5 }, (_, i) => `line ${i}`).join('\n');
      const chatty = await shippedWorker(writeOnce({ stdout: 'Content-Type: text/plain\n\nok', stderr: many }));
      await chatty.fetch(new Request('https://x.workers.dev/'), {});
      expect(spy.mock.calls).toHaveLength(MAX_STDERR_LINES + 1);
      expect(spy.mock.calls[MAX_STDERR_LINES - 1]).toEqual([`line ${MAX_STDERR_LINES - 1}`]);
      expect(spy.mock.calls[MAX_STDERR_LINES]).toEqual(['wfn: 5 more stderr lines not shown']);
    } finally {
      spy.mockRestore();
    }
  });
});
