/**
 * Macro benchmarks per local target: start the target's emulator on the package that would
 * ship, then time requests on fresh connections (curl's phases) and measure throughput at
 * each concurrency level. A target whose adapter cannot load or emulate here is reported as
 * unavailable, with the reason, instead of failing the whole run.
 */
import type { Artifact, TargetAdapter } from '../target/types.js';
import { timeRequest, type RequestTiming } from './http-timing.js';
import { measureThroughput, type ThroughputResult } from './load.js';
import { summarize, type Summary } from './stats.js';

/** The local target that is not an adapter: `wfn dev` itself. */
export const DEV_TARGET = 'dev';

export interface TargetLatency {
  /** TCP connect (time_connect), ms. */
  connect: Summary;
  /** Time to first byte (time_starttransfer), ms. */
  ttfb: Summary;
  /** Whole request (time_total), ms. */
  total: Summary;
  /** First byte minus connect: what the target spent on the request, ms. */
  server: Summary;
}

export interface AvailableTarget {
  target: string;
  available: true;
  url: string;
  /** Emulator start-up (package + start), ms. */
  startMs: number;
  /** The first request after start: includes the target's lazy initialisation (a cold request). */
  firstRequest: RequestTiming;
  latency: TargetLatency;
  /** Response status -> count over the latency requests. */
  statuses: Record<string, number>;
  throughput: ThroughputResult[];
}

export interface UnavailableTarget {
  target: string;
  available: false;
  reason: string;
}

export type TargetResult = AvailableTarget | UnavailableTarget;

export interface MacroOptions {
  path: string;
  /** Latency samples per target, and requests per concurrency level. */
  requests: number;
  concurrency: number[];
  progress(message: string): void;
  /** Give up starting a target after this long (default 120 s). */
  startTimeoutMs?: number;
  /** Stop the latency requests after this long, once 10 are in (default 30 s). */
  budgetMs?: number;
  /** A target's adapter (the CLI reads the registry); not called for the dev target. */
  loadAdapter(target: string): Promise<TargetAdapter>;
}

interface Running {
  url: string;
  close(): Promise<void>;
}

const discard = () => {};

async function startTarget(target: string, artifact: Artifact, options: MacroOptions): Promise<Running> {
  if (target === DEV_TARGET) {
    const { startDevServer } = await import('../project/dev.js');
    return startDevServer({
      host: '127.0.0.1',
      port: 0,
      wasmPath: artifact.wasmPath,
      memoryMiB: artifact.limits.memoryMiB,
      timeoutMs: artifact.limits.timeoutMs,
      watch: false,
      log: discard,
      progress: options.progress,
    });
  }
  const adapter = await options.loadAdapter(target);
  const bundle = await adapter.package(artifact);
  return adapter.emulate(bundle, { host: '127.0.0.1', port: 0, log: discard });
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The first line of an error, for a one-line "unavailable: ..." in the table. */
export function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const hint = (error as { hint?: string }).hint;
  return [message.split('\n')[0], hint].filter(Boolean).join(' ');
}

/** The emulator's URL plus the request path: "http://h/fn/" + "/x?n=3" -> "http://h/fn/x?n=3" (a target may mount the function below a route). */
export function requestUrl(base: string, pathAndQuery: string): string {
  const url = new URL(base);
  const extra = new URL(pathAndQuery, 'http://x');
  url.pathname = url.pathname.replace(/\/+$/, '') + extra.pathname;
  url.search = extra.search;
  return url.href;
}

export function summarizeTimings(timings: RequestTiming[]): TargetLatency {
  return {
    connect: summarize(timings.map((t) => t.connect), 'ms'),
    ttfb: summarize(timings.map((t) => t.starttransfer), 'ms'),
    total: summarize(timings.map((t) => t.total), 'ms'),
    server: summarize(timings.map((t) => t.server), 'ms'),
  };
}

export async function benchTarget(target: string, artifact: Artifact, options: MacroOptions): Promise<TargetResult> {
  const started = performance.now();
  let running: Running;
  try {
    const pending = startTarget(target, artifact, options);
    running = await withTimeout(pending, options.startTimeoutMs ?? 120_000, `starting the ${target} emulator`).catch((error) => {
      // A start that completes after the timeout must not leave a server behind.
      pending.then((r) => r.close()).catch(discard);
      throw error;
    });
  } catch (error) {
    return { target, available: false, reason: reasonOf(error) };
  }
  try {
    const startMs = performance.now() - started;
    const url = requestUrl(running.url, options.path);
    const firstRequest = await timeRequest(url);
    const warmup = Math.min(10, options.requests);
    for (let i = 0; i < warmup; i++) await timeRequest(url);
    options.progress(`${target}: ${options.requests} requests on fresh connections`);
    const timings: RequestTiming[] = [];
    const budget = options.budgetMs ?? 30_000;
    const sampling = performance.now();
    // A slow function stops early (after at least 10 requests): n in the results says how many.
    for (let i = 0; i < options.requests && (i < 10 || performance.now() - sampling < budget); i++) timings.push(await timeRequest(url));
    const statuses: Record<string, number> = {};
    for (const t of timings) statuses[t.status] = (statuses[t.status] ?? 0) + 1;
    const throughput: ThroughputResult[] = [];
    for (const c of options.concurrency) {
      options.progress(`${target}: throughput at concurrency ${c}`);
      // At least 10 requests per connection, so the figure is not only connection setup.
      throughput.push(await measureThroughput(url, c, Math.max(options.requests, 10 * c)));
    }
    return { target, available: true, url: running.url, startMs, firstRequest, latency: summarizeTimings(timings), statuses, throughput };
  } catch (error) {
    return { target, available: false, reason: `measuring failed: ${reasonOf(error)}` };
  } finally {
    await withTimeout(running.close(), 15_000, `stopping the ${target} emulator`).catch(discard);
  }
}
