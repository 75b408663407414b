/**
 * A server under benchmark, run in its own process by src/bench/serve.ts (fork, IPC):
 *   serve <wasm>                 `wfn serve` with the function deployed as "hello"
 *   bare <response.json>         a bare node:http server sending fixed bytes
 *   seed <wasm>                  the seed thesis's design (Listing 4.1): read + compile the module on every request
 *                                (run with --no-liftoff --no-wasm-lazy-compilation it compiles like Wasmtime's
 *                                Cranelift does there: every function, optimized, before running)
 * It sends {url} once listening and answers {type:'stats'} with its RSS (after a GC) and,
 * for serve, the instantiate times seen.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { invokeHttp } from '../runtime/invoke.js';
import { errorResponse } from '../runtime/cgi.js';
import { sendHttpResponse, toHttpRequest } from '../http/node-http.js';
import { createServeLog } from '../server/serve/log.js';
import { startServe } from '../server/serve/server.js';
import { FileStore } from '../server/serve/store-file.js';

export interface BareResponse {
  status: number;
  headers: [string, string][];
  bodyBase64: string;
}

export interface TargetStats {
  rss: number;
  /** Main thread's V8 heap after a GC (tells a JS leak from allocator/worker noise). */
  heapUsed: number;
  /** Instantiate times (µs) of the last requests (serve only). */
  instantiateUs: number[];
  /** Hand-off costs (µs) of the last requests: pool round trip minus the worker's time (serve only). */
  handoffUs: number[];
}

const SAMPLE = 20_000;

/** The module plus a custom section "wfn-seed" holding `nonce`: same code, different bytes. */
function withNonce(bytes: Uint8Array, nonce: bigint): Uint8Array {
  const name = new TextEncoder().encode('wfn-seed');
  const section = new Uint8Array(2 + 1 + name.length + 8);
  section.set([0, 1 + name.length + 8, name.length]);
  section.set(name, 3);
  new DataView(section.buffer).setBigUint64(3 + name.length, nonce, true);
  const out = new Uint8Array(bytes.length + section.length);
  out.set(bytes);
  out.set(section, bytes.length);
  return out;
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function main(): Promise<void> {
  const [kind, file] = process.argv.slice(2);
  const instantiate: number[] = [];
  const handoff: number[] = [];
  let url: string;
  let close: () => Promise<void>;

  if (kind === 'serve') {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'wfn-bench-serve-'));
    const log = createServeLog('text', {
      // The real access log, written where a daemon's stdout goes (here: /dev/null).
      access: (line) => process.stdout.write(`${line}\n`),
      messages: () => {},
    });
    const tuning = JSON.parse(process.env.WFN_BENCH_SERVE ?? '{}') as { workers?: number; concurrency?: number };
    const server = await startServe({
      ...tuning,
      host: '127.0.0.1',
      port: 0,
      store: new FileStore(dataDir),
      token: randomBytes(16).toString('hex'),
      defaultLimits: { memoryMiB: 128, timeoutMs: 10_000 },
      log: {
        ...log,
        access(entry) {
          if (entry.result?.timings.instantiateUs) {
            if (instantiate.length >= SAMPLE) instantiate.shift();
            instantiate.push(entry.result.timings.instantiateUs);
          }
          if (entry.result?.timings.handoffUs !== undefined) {
            if (handoff.length >= SAMPLE) handoff.shift();
            handoff.push(entry.result.timings.handoffUs);
          }
          log.access(entry);
        },
      },
    });
    await server.deploy('hello', await readFile(file));
    url = `${server.url}/hello/`;
    close = async () => {
      await server.close();
      await rm(dataDir, { recursive: true, force: true });
    };
  } else if (kind === 'bare') {
    const spec = JSON.parse(await readFile(file, 'utf8')) as BareResponse;
    const response = { status: spec.status, headers: spec.headers, body: new Uint8Array(Buffer.from(spec.bodyBase64, 'base64')) };
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => sendHttpResponse(res, response));
    });
    url = `${await listen(server)}/hello/`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  } else if (kind === 'seed') {
    // Listing 4.1: every request creates a new engine, loads the file and compiles the module
    // (Module::from_file), then runs it. V8 keeps compiled modules by their bytes within a
    // process, so a unique custom section makes each compile a real one, as with a new engine.
    let nonce = 0n;
    const server = createServer(async (req, res) => {
      try {
        const request = await toHttpRequest(req, 64 * 1024 * 1024);
        const module = new WebAssembly.Module(withNonce(await readFile(file), nonce++) as BufferSource);
        const result = await invokeHttp(module, request, { route: '/hello', env: {} });
        sendHttpResponse(res, result.response);
      } catch {
        sendHttpResponse(res, errorResponse(500));
      }
    });
    url = `${await listen(server)}/hello/`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  } else {
    throw new Error(`unknown bench target ${kind}`);
  }

  process.on('message', async (msg: { type: string }) => {
    if (msg.type === 'stats') {
      (globalThis as { gc?: () => void }).gc?.();
      process.send!({ type: 'stats', rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed, instantiateUs: instantiate.slice(), handoffUs: handoff.slice() } satisfies TargetStats & { type: string });
    }
    if (msg.type === 'close') {
      await close();
      process.exit(0);
    }
  });
  process.send!({ type: 'ready', url });
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
