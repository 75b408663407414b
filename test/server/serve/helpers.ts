/** Shared by the test/serve/ files: in-process servers, admin calls, small WAT functions, child CLIs. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServeLog } from '../../../src/server/serve/log.js';
import { startServe, type ServeOptions, type ServeServer } from '../../../src/server/serve/server.js';
import { FileStore } from '../../../src/server/serve/store-file.js';
import { writeOnce } from '../../fixtures/contract.js';
import { request, type RawResponse } from '../../helpers/http.js';
import { wat2wasm } from '../../helpers/wat.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = path.join(ROOT, 'bin', 'run.js');

export interface TestServer extends ServeServer {
  dataDir: string;
  access: string[];
  messages: string[];
}

export async function tempDir(label: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `wfn-serve-${label}-`));
}

/** An in-process server on a free loopback port with the file store in `dataDir` (a fresh temp dir by default). */
export async function startTestServe(options: Partial<ServeOptions> & { dataDir?: string } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await tempDir('data'));
  const access: string[] = [];
  const messages: string[] = [];
  const server = await startServe({
    host: '127.0.0.1',
    port: 0,
    store: new FileStore(dataDir),
    token: TOKEN,
    defaultLimits: { memoryMiB: 64, timeoutMs: 5000 },
    log: createServeLog('text', { access: (l) => access.push(l), messages: (l) => messages.push(l) }),
    ...options,
  });
  return Object.assign(server, { dataDir, access, messages });
}

export interface AdminCall {
  method?: string;
  body?: Uint8Array;
  headers?: [string, string][];
  /** null = no Authorization header. */
  token?: string | null;
}

export async function admin(base: string, route: string, call: AdminCall = {}): Promise<RawResponse & { json: any }> {
  const headers: [string, string][] = [...(call.headers ?? [])];
  const token = call.token === undefined ? TOKEN : call.token;
  if (token !== null) headers.push(['authorization', `Bearer ${token}`]);
  const res = await request(`${base}/_wfn/${route}`, { method: call.method ?? 'GET', headers, body: call.body });
  let json: any;
  try {
    json = JSON.parse(res.body.toString());
  } catch {
    json = undefined;
  }
  return Object.assign(res, { json });
}

/** PUT as multipart (wasm + config), the way the adapter does. */
export async function deploy(base: string, name: string, wasm: Uint8Array, config?: unknown, token: string | null = TOKEN): Promise<RawResponse & { json: any }> {
  const form = new FormData();
  if (config !== undefined) form.append('config', new Blob([JSON.stringify(config)], { type: 'application/json' }));
  form.append('wasm', new Blob([wasm as BlobPart], { type: 'application/wasm' }), `${name}.wasm`);
  const req = new Request('http://x/', { method: 'PUT', body: form });
  const body = new Uint8Array(await req.arrayBuffer());
  return admin(base, `functions/${name}`, { method: 'PUT', body, headers: [['content-type', req.headers.get('content-type')!]], token });
}

/** A function answering `text/plain` with `body`. */
export function textFunction(body: string): Promise<Uint8Array> {
  return wat2wasm(writeOnce({ stdout: `Content-Type: text/plain\n\n${body}` }));
}

/** Busy-waits `ms` of wall-clock time (WASI clock), then answers "slept". */
export function sleepFunction(ms: number): Promise<Uint8Array> {
  return wat2wasm(`(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 64) "Content-Type: text/plain\\n\\nslept")
  (func $now (result i64) (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 0))) (i64.load (i32.const 0)))
  (func (export "_start") (local $end i64)
    (local.set $end (i64.add (call $now) (i64.const ${ms * 1_000_000})))
    (loop $wait (br_if $wait (i64.lt_u (call $now) (local.get $end))))
    (i32.store (i32.const 16) (i32.const 64))
    (i32.store (i32.const 20) (i32.const 31))
    (drop (call $fd_write (i32.const 1) (i32.const 16) (i32.const 1) (i32.const 24)))))`);
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function builtCli(): string {
  if (!existsSync(path.join(ROOT, 'lib', 'src', 'commands', 'serve.js'))) throw new Error('lib/ is not built: run "npx tsc -p tsconfig.json" (npm test does it)');
  return CLI;
}

export interface CliServer {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node bin/run.js serve ...` in a child process; resolves once it listens (or rejects with its stderr). */
export function startCliServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliServer> {
  const child = spawn(process.execPath, [builtCli(), 'serve', '--host', '127.0.0.1', ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', WFN_TOKEN: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`wfn serve did not start within 30 s:\n${err}`)), 30_000);
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /wfn serve on (http:\/\/\S+)/.exec(err) ?? /"url":\s*"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], stdout: () => out, stderr: () => err, exited });
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`wfn serve exited (${code ?? signal}) before listening:\n${err}`));
    });
  });
}
