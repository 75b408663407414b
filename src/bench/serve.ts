/**
 * Benchmarks of `wfn serve` (used by `npm run bench`): req/s and p50/p99 on a given .wasm,
 * beside a bare node:http server sending the same bytes and beside the seed thesis's design
 * that compiles the module on every request (its Listing 4.1); instantiate p50 per request;
 * and a soak with the server's RSS at the start and the end. Every server runs in its own
 * process on 127.0.0.1 (forked-server.ts); the load driver (load.ts) runs in this one, for a bounded time.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fetchOnce, startTarget, type BenchTarget } from './forked-server.js';
import { runLoad, type LoadOptions, type LoadResult } from './load.js';
import type { BareResponse, TargetStats } from './server-process.js';

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(target: BenchTarget, options: LoadOptions & { warmupS: number }): Promise<LoadResult> {
  if (options.warmupS > 0) await runLoad(target.url, { durationS: options.warmupS, connections: options.connections });
  return runLoad(target.url, options);
}

export interface ServeBenchOptions {
  /** Seconds of measured load per server (default 10). */
  durationS?: number;
  connections?: number;
  /** Seconds of unmeasured load first (JIT, caches), default 2. */
  warmupS?: number;
}

export interface ServeBenchReport {
  wasm: string;
  connections: number;
  serve: LoadResult;
  bare: LoadResult;
  /** Compile per request with V8's default pipeline (lazy, baseline tier first). */
  seed: LoadResult;
  /** Compile per request with every function optimized up front (Wasmtime/Cranelift's model in the seed). */
  seedOptimizing: LoadResult;
  /** serve req/s ÷ bare node:http req/s (goal ≥ 0.7). */
  ratioToBare: number;
  /** serve req/s ÷ compile-per-request req/s, V8 default compile (goal ≥ 20). */
  speedupOverSeed: number;
  /** serve req/s ÷ compile-per-request req/s, optimizing compile up front. */
  speedupOverSeedOptimizing: number;
  /** Fresh instance per request inside serve, µs. */
  instantiateP50Us: number;
  instantiateP99Us: number;
  /** Worker hand-off per request inside serve (pool round trip minus the worker's own time), µs. */
  handoffP50Us: number;
  handoffP99Us: number;
}

/** `wfn serve` beside a bare node:http server with the same bytes and beside the seed's compile-per-request server. */
export async function benchServe(wasmPath: string, options: ServeBenchOptions = {}): Promise<ServeBenchReport> {
  const load = { durationS: options.durationS ?? 10, connections: options.connections ?? 16, warmupS: options.warmupS ?? 2 };
  const wasm = path.resolve(wasmPath);
  const scratch = await mkdtemp(path.join(tmpdir(), 'wfn-bench-'));
  try {
    const serveTarget = await startTarget('serve', wasm);
    let serve: LoadResult;
    let stats: TargetStats;
    let response: BareResponse;
    try {
      response = await fetchOnce(serveTarget.url);
      if (response.status !== 200) throw new Error(`${wasm} answers ${response.status} on wfn serve; benchmark a function that answers 200`);
      serve = await measure(serveTarget, load);
      stats = await serveTarget.stats();
    } finally {
      await serveTarget.close();
    }
    const spec = path.join(scratch, 'response.json');
    await writeFile(spec, JSON.stringify(response));
    const bareTarget = await startTarget('bare', spec);
    let bare: LoadResult;
    try {
      bare = await measure(bareTarget, load);
    } finally {
      await bareTarget.close();
    }
    const seedRun = async (kind: 'seed' | 'seed-optimizing') => {
      const target = await startTarget(kind, wasm);
      try {
        return await measure(target, load);
      } finally {
        await target.close();
      }
    };
    const seed = await seedRun('seed');
    const seedOptimizing = await seedRun('seed-optimizing');
    return {
      wasm,
      connections: load.connections,
      serve,
      bare,
      seed,
      seedOptimizing,
      ratioToBare: Math.round((serve.reqPerSec / Math.max(1, bare.reqPerSec)) * 100) / 100,
      speedupOverSeed: Math.round((serve.reqPerSec / Math.max(1, seed.reqPerSec)) * 10) / 10,
      speedupOverSeedOptimizing: Math.round((serve.reqPerSec / Math.max(1, seedOptimizing.reqPerSec)) * 10) / 10,
      instantiateP50Us: percentile(stats.instantiateUs, 50),
      instantiateP99Us: percentile(stats.instantiateUs, 99),
      handoffP50Us: percentile(stats.handoffUs, 50),
      handoffP99Us: percentile(stats.handoffUs, 99),
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export interface SoakOptions {
  /** Total seconds of load (the lead's bench uses 60). */
  durationS: number;
  connections?: number;
  /** RSS sample interval, seconds (default 5). */
  sampleEveryS?: number;
}

export interface SoakReport {
  durationS: number;
  requests: number;
  reqPerSec: number;
  errors: number;
  non2xx: number;
  /** Median RSS of the first three samples under load (JIT and pools warmed), MiB. */
  rssStartMiB: number;
  /** Median RSS of the last three samples, MiB. */
  rssEndMiB: number;
  rssGrowthMiB: number;
  samples: { atS: number; rssMiB: number; heapMiB: number }[];
}

const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

/** Sustained load on `wfn serve`, sampling the server's RSS (after a GC) as it goes. */
export async function soakServe(wasmPath: string, options: SoakOptions): Promise<SoakReport> {
  const every = options.sampleEveryS ?? 5;
  const connections = options.connections ?? 16;
  const target = await startTarget('serve', path.resolve(wasmPath));
  const started = performance.now();
  const samples: { atS: number; rssMiB: number; heapMiB: number }[] = [];
  const sample = async () => {
    const stats = await target.stats();
    samples.push({ atS: Math.round((performance.now() - started) / 1000), rssMiB: mib(stats.rss), heapMiB: mib(stats.heapUsed) });
  };
  try {
    let total: LoadResult | undefined;
    const loading = runLoad(target.url, { durationS: options.durationS, connections }).then((r) => (total = r));
    while (!total) {
      await Promise.race([loading, new Promise((r) => setTimeout(r, every * 1000))]);
      if (total) break;
      await sample();
    }
    await sample();
    // RSS moves by ±10 MiB between samples (worker heaps, allocator): compare medians of the first and last three.
    const edge = Math.max(1, Math.min(3, Math.floor(samples.length / 2)));
    const first = percentile(samples.slice(0, edge).map((x) => x.rssMiB), 50);
    const last = percentile(samples.slice(-edge).map((x) => x.rssMiB), 50);
    const result = total as LoadResult;
    return {
      durationS: result.durationS,
      requests: result.requests,
      reqPerSec: result.reqPerSec,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
      rssStartMiB: first,
      rssEndMiB: last,
      rssGrowthMiB: Math.round((last - first) * 10) / 10,
      samples,
    };
  } finally {
    await target.close();
  }
}
