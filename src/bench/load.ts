/**
 * The one load driver: autocannon (programmatically) against a loopback URL, bounded by a
 * duration or a request count. runLoad reports autocannon's own figures (npm run bench: serve,
 * Cloudflare); measureThroughput (wfn bench) adds a warm-up and per-response latencies from
 * autocannon's 'response' events (float ms; its own histogram rounds to whole ms).
 */
import { createRequire } from 'node:module';
import { UserError } from '../util/errors.js';
import { summarize, type Summary } from './stats.js';

interface AutocannonResult {
  requests: { average: number; total: number };
  '2xx': number;
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  duration: number;
}
type AutocannonTracker = PromiseLike<AutocannonResult> & {
  on(event: 'response', listener: (client: unknown, status: number, bytes: number, ms: number) => void): void;
};
type Autocannon = (opts: { url: string; connections: number; amount?: number; duration?: number; timeout: number; sampleInt?: number; pipelining?: number }) => AutocannonTracker;

let autocannon: Autocannon | undefined;

function loadAutocannon(): Autocannon {
  if (autocannon) return autocannon;
  try {
    autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
    return autocannon;
  } catch (error) {
    throw new UserError(`The load generator (autocannon) is not installed: ${(error as Error).message.split('\n')[0]}`, 'Reinstall wfn (npm install -g wfn), or pass --concurrency none to skip the throughput runs.');
  }
}

export interface LoadOptions {
  connections: number;
  /** Seconds of load (an upper bound when `amount` is given). */
  durationS: number;
  /** Send exactly this many requests instead. */
  amount?: number;
  /** Seconds before a request counts as a timeout (default 10). */
  timeoutS?: number;
}

export interface LoadResult {
  /** Responses received. */
  requests: number;
  /** Of which 2xx. */
  ok: number;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  durationS: number;
}

/** One autocannon run against `url`, with autocannon's own statistics. */
export async function runLoad(url: string, options: LoadOptions): Promise<LoadResult> {
  const r = await loadAutocannon()({
    url,
    connections: options.connections,
    ...(options.amount ? { amount: options.amount } : { duration: options.durationS }),
    pipelining: 1,
    timeout: options.timeoutS ?? 10,
  });
  return {
    requests: r.requests.total,
    ok: r['2xx'],
    reqPerSec: Math.round(r.requests.average),
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    durationS: r.duration,
  };
}

export interface ThroughputResult {
  concurrency: number;
  /** Responses received. */
  requests: number;
  durationMs: number;
  reqPerSec: number;
  /** Per-response latency under this load, ms. */
  latency: Summary;
  /** Connection errors + timeouts. */
  errors: number;
  non2xx: number;
}

/** autocannon finishes an amount-bounded run at its next sampling tick (1 s by default). */
const SAMPLE_MS = 25;

/** Throughput at one concurrency level, bounded by a request count, after a short warm-up. */
export async function measureThroughput(url: string, concurrency: number, requests: number): Promise<ThroughputResult> {
  const run = loadAutocannon();
  const amount = Math.max(requests, concurrency);
  // A short warm-up opens the connections and lets the target's JIT settle.
  await run({ url, connections: concurrency, amount: Math.max(concurrency, Math.min(100, Math.ceil(amount / 10))), timeout: 30, sampleInt: SAMPLE_MS });
  const latencies: number[] = [];
  const start = performance.now();
  let last = start;
  const tracker = run({ url, connections: concurrency, amount, timeout: 30, sampleInt: SAMPLE_MS });
  tracker.on('response', (_client, _status, _bytes, ms) => {
    latencies.push(ms);
    last = performance.now();
  });
  const result = await tracker;
  // Up to the last response: autocannon itself only finishes at its next 1 s sampling tick.
  const durationMs = last - start;
  return {
    concurrency,
    requests: latencies.length,
    durationMs,
    reqPerSec: durationMs > 0 ? latencies.length / (durationMs / 1000) : 0,
    latency: summarize(latencies.length > 0 ? latencies : [0], 'ms'),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
