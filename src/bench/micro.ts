/**
 * In-process micro benchmarks on wfn's own runtime (the code `dev`, `serve` and the Worker and
 * Lambda shims run): compile time, cold start (fresh instance + `_start`, the seed's 5.5.1
 * definition) and the function's own run time. Criterion's phases: warm-up, then samples.
 */
import { readFile } from 'node:fs/promises';
import { buildCgiEnvironment } from '../runtime/cgi.js';
import { responseFromRun, runModule, type PooledMemoryLimits, type RunInput } from '../runtime/invoke.js';
import { capMemory } from '../runtime/module.js';
import { compileFunction } from '../runtime/node/load.js';
import type { HttpRequest } from '../runtime/types.js';
import { summarize, type Summary } from './stats.js';

export interface MicroOptions {
  wasmPath: string;
  memoryMiB: number;
  env: Record<string, string>;
  /** Request path and query the function is run with. */
  path: string;
  samples: number;
  warmup: number;
  /** Samples of compile time (compiling is slow for big modules; default: min(samples, 30)). */
  compileSamples?: number;
  /** Stop sampling a phase after this long (once MIN_SAMPLES are in), so a slow function still finishes. */
  budgetMs?: number;
}

/** A phase never has fewer samples than this, whatever the budget. */
export const MIN_SAMPLES = 10;
export const DEFAULT_BUDGET_MS = 20_000;

export interface MicroResult {
  request: { method: string; path: string; status: number; outcome: string };
  /** WebAssembly.compile of the module (memory-capped, as the runtime loads it), µs. */
  compile: Summary;
  /** new WASI host + instantiate + `_start` to its return: the cold start, µs. */
  coldStart: Summary;
  /** The instantiate part of it, µs. */
  instantiate: Summary;
  /** The `_start` part: the function's own run time, µs. */
  run: Summary;
  /**
   * The in-process reference: an empty `new WebAssembly.Instance` of the same module (its own
   * memory and data segments, every import a no-op, nothing run), µs. Cold start ÷ this shows a
   * regression of wfn's invoke path as a ratio, whatever the machine. Absent in older results.
   */
  emptyInstance?: Summary;
}

/** An instance of `module` with every import a no-op and nothing run: what V8 alone costs. */
export function emptyInstanceOf(module: WebAssembly.Module): () => WebAssembly.Instance {
  const imports: Record<string, Record<string, unknown>> = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    imports[imp.module] ??= {};
    if (imp.kind === 'function') imports[imp.module][imp.name] = () => 0;
  }
  return () => new WebAssembly.Instance(module, imports as WebAssembly.Imports);
}

/** The request every micro sample runs: what `wfn dev` would hand the function for `GET <path>`. */
export function benchRequest(pathAndQuery: string): HttpRequest {
  return {
    method: 'GET',
    url: new URL(pathAndQuery, 'http://127.0.0.1:8080').href,
    headers: [
      ['host', '127.0.0.1:8080'],
      ['user-agent', 'wfn-bench'],
      ['accept', '*/*'],
    ],
    body: new Uint8Array(0),
    remoteAddr: '127.0.0.1',
  };
}

/**
 * Appends a custom section with a unique payload. V8 shares compiled code between modules
 * with identical bytes while one is alive (its native module cache), so re-compiling the same
 * bytes would measure a cache hit, not a compile. A custom section changes nothing else.
 */
export function withUniqueCustomSection(bytes: Uint8Array, tag: number): Uint8Array {
  const name = new TextEncoder().encode('wfn-bench');
  const payload = new TextEncoder().encode(String(tag));
  const body = [name.length, ...name, ...payload];
  const out = new Uint8Array(bytes.length + 2 + body.length);
  out.set(bytes);
  out[bytes.length] = 0; // custom section id
  out[bytes.length + 1] = body.length; // < 128: one LEB128 byte
  out.set(body, bytes.length + 2);
  return out;
}

const elapsedUs = (start: number) => (performance.now() - start) * 1000;

/** One cold start exactly as the servers run it (runModule: fresh instance, recycled memory, `_start`). */
export async function timedColdStart(module: WebAssembly.Module, input: RunInput, pooled?: PooledMemoryLimits): Promise<{ totalUs: number; instantiateUs: number; runUs: number }> {
  const t0 = performance.now();
  const r = await runModule(module, input, pooled);
  return { totalUs: (performance.now() - t0) * 1000, instantiateUs: r.instantiateUs, runUs: r.runUs };
}

export async function runMicro(options: MicroOptions): Promise<MicroResult> {
  const bytes = await readFile(options.wasmPath);
  const fn = { route: '/', env: options.env };
  // Validates, checks the contract and caps memory exactly as `wfn dev` does.
  const loaded = await compileFunction(bytes, options.wasmPath, { memoryMiB: options.memoryMiB, timeoutMs: 0, fn });
  const capped = capMemory(bytes, options.memoryMiB);

  const compileSamples = options.compileSamples ?? Math.max(5, Math.min(options.samples, 30));
  const compile: number[] = [];
  await WebAssembly.compile(withUniqueCustomSection(capped, -1) as BufferSource); // warm-up
  const budget = options.budgetMs ?? DEFAULT_BUDGET_MS;
  const within = (started: number, i: number) => i < MIN_SAMPLES || performance.now() - started < budget;
  const compileStarted = performance.now();
  for (let i = 0; i < compileSamples && within(compileStarted, i); i++) {
    const unique = withUniqueCustomSection(capped, i);
    const start = performance.now();
    await WebAssembly.compile(unique as BufferSource);
    compile.push(elapsedUs(start));
  }

  const request = benchRequest(options.path);
  const { env, args } = buildCgiEnvironment(request, fn);
  const input = { env, args, stdin: request.body };
  const first = responseFromRun(await runModule(loaded.module, input, loaded.pooledMemory), { memoryCapBytes: options.memoryMiB * 1048576 });
  for (let i = 0; i < options.warmup; i++) await timedColdStart(loaded.module, input, loaded.pooledMemory);

  const coldStart: number[] = [];
  const instantiate: number[] = [];
  const run: number[] = [];
  const sampleStarted = performance.now();
  for (let i = 0; i < options.samples && within(sampleStarted, i); i++) {
    const sample = await timedColdStart(loaded.module, input, loaded.pooledMemory);
    coldStart.push(sample.totalUs);
    instantiate.push(sample.instantiateUs);
    run.push(sample.runUs);
  }
  // The reference, sampled right after, on the module as compiled without wfn's rewrites.
  const reference: number[] = [];
  try {
    const empty = emptyInstanceOf(await WebAssembly.compile(capped as BufferSource));
    for (let i = 0; i < options.warmup; i++) empty();
    const referenceStarted = performance.now();
    for (let i = 0; i < options.samples && within(referenceStarted, i); i++) {
      const start = performance.now();
      empty();
      reference.push(elapsedUs(start));
    }
  } catch {
    // A module that needs real imports to instantiate (an imported memory or global): no reference.
  }
  const url = new URL(request.url);
  return {
    request: { method: request.method, path: url.pathname + url.search, status: first.response.status, outcome: first.outcome },
    compile: summarize(compile, 'us'),
    coldStart: summarize(coldStart, 'us'),
    instantiate: summarize(instantiate, 'us'),
    run: summarize(run, 'us'),
    emptyInstance: reference.length > 0 ? summarize(reference, 'us') : undefined,
  };
}
