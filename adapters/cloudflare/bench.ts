/**
 * Issue 6's benchmark figures for `npm run bench`: the function's Worker in workerd (direct,
 * and through the emulator's front proxy) beside a plain-JS Worker answering the same bytes
 * in the same workerd, plus the bundle's size raw and gzipped. Bounded: a few seconds.
 */
import { DEFAULT_OUTBOUND } from '../../src/runtime/outbound/abi.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Artifact } from '../../src/target/types.js';
import { runLoad } from '../../src/bench/load.js';
import { DEFAULT_LIMITS } from '../../src/config/types.js';
import { startCloudflareEmulator } from './emulator.js';
import { COMPATIBILITY_DATE, ENTRY_FILE, packageWorker, WORKERD_CONFIG_FILE, wasmFileName } from './package.js';
import { startWorkerd } from './workerd.js';

export interface LoadFigures {
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Connection errors, timeouts and non-2xx answers. */
  errors: number;
}

export interface CloudflareBench {
  bundle: { workerJsBytes: number; wasmBytes: number; rawBytes: number; gzipBytes: number };
  /** The wasm Worker, straight to workerd. */
  wasmWorker: LoadFigures;
  /** The same, through `wfn dev --target cloudflare`'s front proxy (what a developer hits). */
  viaEmulator: LoadFigures;
  /** A plain-JS Worker returning the same status, headers and body, straight to workerd. */
  plainJsWorker: LoadFigures;
  /** wasm / plain JS. */
  ratio: { reqPerSec: number; p50: number };
}

export interface BenchOptions {
  /** Seconds per measured run (3 runs, each after a short warm-up). */
  durationSeconds?: number;
  connections?: number;
  /** Request path and query. */
  path?: string;
}

async function measure(url: string, connections: number, durationS: number): Promise<LoadFigures> {
  await runLoad(url, { connections, durationS: 0.5 }); // warm-up (compile, JIT, keep-alive)
  const r = await runLoad(url, { connections, durationS });
  return { reqPerSec: r.reqPerSec, p50Ms: r.p50Ms, p99Ms: r.p99Ms, errors: r.errors + r.timeouts + r.non2xx };
}

/** A module Worker that answers the captured response's exact bytes. */
function plainWorkerSource(status: number, headers: [string, string][], body: Uint8Array): string {
  return `const body = Uint8Array.from(atob(${JSON.stringify(Buffer.from(body).toString('base64'))}), (c) => c.charCodeAt(0));
const headers = ${JSON.stringify(headers)};
export default { async fetch() { const h = new Headers(); for (const [k, v] of headers) h.append(k, v); return new Response(body, { status: ${status}, headers: h }); } };
`;
}

export async function benchCloudflare(wasmPath: string, options: BenchOptions = {}): Promise<CloudflareBench> {
  const duration = options.durationSeconds ?? 1.5;
  const connections = options.connections ?? 10;
  const route = options.path ?? '/';
  const scratch = await mkdtemp(path.join(tmpdir(), 'wfn-bench-cloudflare-'));
  const artifact: Artifact = { name: 'bench', wasmPath, env: {}, secrets: [], limits: DEFAULT_LIMITS, outbound: DEFAULT_OUTBOUND, projectDir: scratch };
  const bundle = await packageWorker(artifact);
  const size = (p: string) => bundle.files.find((f) => f.path === p)?.size ?? 0;
  const quiet = () => {};

  const wasmWd = await startWorkerd(path.join(bundle.dir, WORKERD_CONFIG_FILE), { env: process.env, output: quiet });
  const emulator = await startCloudflareEmulator(bundle, { host: '127.0.0.1', port: 0, log: quiet });
  let plainWd: Awaited<ReturnType<typeof startWorkerd>> | undefined;
  try {
    const wasmUrl = `http://127.0.0.1:${wasmWd.port}${route}`;
    // Capture what the function answers (minus the emulator-only and framing headers).
    const sample = await fetch(wasmUrl);
    const body = new Uint8Array(await sample.arrayBuffer());
    const headers: [string, string][] = [];
    sample.headers.forEach((v, k) => {
      if (!k.startsWith('x-wfn-') && k !== 'content-length' && k !== 'set-cookie') headers.push([k, v]);
    });
    for (const cookie of sample.headers.getSetCookie()) headers.push(['set-cookie', cookie]);

    await writeFile(path.join(scratch, 'plain.js'), plainWorkerSource(sample.status, headers, body));
    await writeFile(
      path.join(scratch, 'plain.capnp'),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = (modules = [ (name = "plain.js", esModule = embed "plain.js") ], compatibilityDate = "${COMPATIBILITY_DATE}")) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);
`,
    );
    plainWd = await startWorkerd(path.join(scratch, 'plain.capnp'), { env: {}, output: quiet });
    const plainUrl = `http://127.0.0.1:${plainWd.port}${route}`;

    const wasmWorker = await measure(wasmUrl, connections, duration);
    const plainJsWorker = await measure(plainUrl, connections, duration);
    const viaEmulator = await measure(new URL(route.replace(/^\//, ''), emulator.url).href, connections, duration);
    const workerJsBytes = size(ENTRY_FILE);
    const wasmBytes = size(wasmFileName(artifact.name));
    return {
      bundle: { workerJsBytes, wasmBytes, rawBytes: workerJsBytes + wasmBytes, gzipBytes: bundle.compressedSize ?? 0 },
      wasmWorker,
      viaEmulator,
      plainJsWorker,
      ratio: { reqPerSec: wasmWorker.reqPerSec / plainJsWorker.reqPerSec, p50: wasmWorker.p50Ms / Math.max(plainJsWorker.p50Ms, 0.001) },
    };
  } finally {
    await emulator.close();
    await wasmWd.stop();
    await plainWd?.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * The function's Worker (the shipped bundle: wfn's shim around the same .wasm) alone in workerd,
 * for a side-by-side run with `wfn serve` and bare node:http under the same client (issue 18).
 */
export async function startWorkerdTarget(wasmPath: string, route = '/'): Promise<{ url: string; close(): Promise<void> }> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'wfn-bench-workerd-'));
  const artifact: Artifact = { name: 'bench', wasmPath, env: {}, secrets: [], limits: DEFAULT_LIMITS, outbound: DEFAULT_OUTBOUND, projectDir: scratch };
  const bundle = await packageWorker(artifact);
  const wd = await startWorkerd(path.join(bundle.dir, WORKERD_CONFIG_FILE), { env: process.env, output: () => {} });
  return {
    url: `http://127.0.0.1:${wd.port}${route}`,
    close: async () => {
      await wd.stop();
      await rm(scratch, { recursive: true, force: true });
    },
  };
}
