/**
 * One invocation: a fresh instance of an already compiled module, `_start`, and the CGI
 * response. Platform-neutral: used by the worker pool (dev, run, serve) and bundled into
 * the Cloudflare and Lambda shims. Timeouts are the caller's job (V8 cannot interrupt
 * wasm on the thread that runs it).
 */
import { buildCgiEnvironment, CgiParseError, CgiRequestError, errorResponse, parseCgiResponse, type CgiInvocation } from './cgi.js';
import { usesKv, usesOutbound } from './contract.js';
import { DEFAULT_KV, KV_ERROR, KV_MODULE, type KvRequest, type KvResult, type KvSettings } from './kv/abi.js';
import { KvHost, KV_SUSPENDING } from './kv/imports.js';
import { DEFAULT_OUTBOUND, OUTBOUND_ERROR, type OutboundRequest, type OutboundResult, type OutboundSettings } from './outbound/abi.js';
import { OutboundHost } from './outbound/imports.js';
import { policyFor } from './outbound/policy.js';
import type { FunctionContext, HttpRequest, InvokeResult, Outcome } from './types.js';
import { filesOf } from './files.js';
import { IMAGE_SECTION } from './module.js';
import { WasiExit, WasiHost } from './wasi.js';

/** How this host makes the outbound calls of a function that imports wfn_http_v1. */
export interface OutboundBinding {
  settings: OutboundSettings;
  perform(request: OutboundRequest): OutboundResult | Promise<OutboundResult>;
  /**
   * `perform` returns promises and the engine has JSPI (workerd): `send` becomes a
   * WebAssembly.Suspending import and `_start` runs through WebAssembly.promising, so the
   * wasm stack is suspended while the host awaits the call.
   */
  suspending?: boolean;
}

/** How this host reaches the key-value stores of a function that imports wfn_kv_v1. */
export interface KvBinding {
  settings: KvSettings;
  perform(request: KvRequest): KvResult | Promise<KvResult>;
  /** `perform` returns promises under JSPI (workerd): get, set, delete and list become WebAssembly.Suspending imports. */
  suspending?: boolean;
}

/** JSPI, where the engine has it (workerd has it without flags; Node 20 does not). */
interface Jspi {
  Suspending: new (fn: (...args: number[]) => unknown) => (...args: number[]) => unknown;
  promising(fn: () => void): () => Promise<void>;
}

function jspi(): Jspi {
  const api = WebAssembly as unknown as Partial<Jspi>;
  if (typeof api.Suspending !== 'function' || typeof api.promising !== 'function') {
    throw new Error('this engine has no JSPI (WebAssembly.Suspending / WebAssembly.promising)');
  }
  return api as Jspi;
}

export interface RunInput {
  args: string[];
  env: [string, string][];
  stdin: Uint8Array;
  /** Absent: a function that imports wfn_http_v1 still runs, and each call fails (FAILED). */
  outbound?: OutboundBinding;
  /** Absent: a function that imports wfn_kv_v1 still runs; `open` is DENIED (no stores). */
  kv?: KvBinding;
}

const UNAVAILABLE: OutboundBinding = {
  settings: DEFAULT_OUTBOUND,
  perform: () => ({ error: { code: OUTBOUND_ERROR.FAILED, message: 'outbound HTTP is not available on this host' } }),
};

const NO_KV: KvBinding = {
  settings: DEFAULT_KV,
  perform: () => ({ error: { code: KV_ERROR.UNAVAILABLE, message: 'key-value stores are not available on this host' } }),
};

/** Limits of a module whose memory was turned into the `wfn.memory` import (module.ts importMemory). */
export interface PooledMemoryLimits {
  initialPages: number;
  maximumPages: number;
}

const MAX_POOLED = 8;

/** The recycled memories of a module: clean ones (as a fresh instance's), and dirty ones still to reset. */
interface MemoryPool {
  clean: WebAssembly.Memory[];
  dirty: WebAssembly.Memory[];
  /** The memory image after instantiation (module.ts takeDataImage), or null when V8 writes the segments itself. */
  image: { offset: number; bytes: Uint8Array } | null;
}

const memoryPools = new WeakMap<WebAssembly.Module, MemoryPool>();
/** Pools with dirty memories, reset by `tidyMemories` once the response is on its way. */
const untidy = new Set<MemoryPool>();

function poolOf(module: WebAssembly.Module): MemoryPool {
  let pool = memoryPools.get(module);
  if (!pool) {
    const sections = WebAssembly.Module.customSections(module, IMAGE_SECTION);
    let image: MemoryPool['image'] = null;
    if (sections.length === 1 && sections[0].byteLength >= 4) {
      const bytes = new Uint8Array(sections[0]);
      image = { offset: new DataView(sections[0]).getUint32(0, true), bytes: bytes.subarray(4) };
    }
    pool = { clean: [], dirty: [], image };
    memoryPools.set(module, pool);
  }
  return pool;
}

/**
 * Back to the state of a fresh instance's memory: zeros, and the image where the data segments
 * were. One pass each over the memory (fill and copy are memset/memcpy in V8).
 */
function resetMemory(pool: MemoryPool, memory: WebAssembly.Memory): void {
  const all = new Uint8Array(memory.buffer);
  const image = pool.image;
  if (!image) {
    all.fill(0);
    return;
  }
  all.fill(0, 0, image.offset);
  all.set(image.bytes, image.offset);
  all.fill(0, image.offset + image.bytes.length);
}

/** A memory of the module's initial size as a fresh instance would see it: recycled when one is free, else new. */
function acquireMemory(module: WebAssembly.Module, limits: PooledMemoryLimits): WebAssembly.Memory {
  const pool = poolOf(module);
  const clean = pool.clean.pop();
  if (clean) return clean;
  const dirty = pool.dirty.pop();
  if (dirty) {
    resetMemory(pool, dirty);
    return dirty;
  }
  const memory = new WebAssembly.Memory({ initial: limits.initialPages, maximum: limits.maximumPages });
  if (pool.image) new Uint8Array(memory.buffer).set(pool.image.bytes, pool.image.offset);
  return memory;
}

/** A memory that grew up to this much past the module's minimum is still worth recycling. */
const MAX_RECYCLED_GROWTH = 4 * 1024 * 1024;

/**
 * Back to the pool, to be reset (by `tidyMemories`, or when it is taken again). A memory cannot
 * shrink: one that grew a little is reused as it is (an imported memory may be larger than the
 * module's minimum, so the guest just sees more free memory); one that grew a lot is dropped
 * rather than reset every time.
 */
function releaseMemory(module: WebAssembly.Module, limits: PooledMemoryLimits, memory: WebAssembly.Memory): void {
  if (memory.buffer.byteLength > limits.initialPages * 65536 + MAX_RECYCLED_GROWTH) return;
  const pool = poolOf(module);
  if (pool.clean.length + pool.dirty.length >= MAX_POOLED) return;
  pool.dirty.push(memory);
  untidy.add(pool);
}

/**
 * Resets the memories released since the last call. Hosts call it once the response is sent, so
 * the reset is off the request's path; a memory taken before that is reset when it is taken.
 */
export function tidyMemories(): void {
  for (const pool of untidy) {
    for (let memory = pool.dirty.pop(); memory; memory = pool.dirty.pop()) {
      resetMemory(pool, memory);
      pool.clean.push(memory);
    }
  }
  untidy.clear();
}

export interface RunResult {
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** 0 when `_start` returned; the proc_exit code otherwise; null after a trap. */
  exitCode: number | null;
  /** The trap's message, when the guest trapped. */
  trap?: string;
  /** Bytes of linear memory when the run ended (to tell a memory-cap hit from other traps). */
  memoryBytes: number;
  instantiateUs: number;
  runUs: number;
}

const now = () => performance.now();

/**
 * A WASI host and the import object around it, made once per module and reused by the
 * invocations that follow one another (one at a time each: a run under JSPI takes its own).
 * Each invocation resets the host, so it sees only its own argv, environment and stdin.
 */
interface Runner {
  host: WasiHost;
  imports: WebAssembly.Imports;
  /** The `wfn` import module: its memory is set per invocation (recycled memories). */
  wfn: { memory?: WebAssembly.Memory };
}

const MAX_RUNNERS = 8;
const freeRunners = new WeakMap<WebAssembly.Module, Runner[]>();

function acquireRunner(module: WebAssembly.Module, input: RunInput): Runner {
  const runner = freeRunners.get(module)?.pop();
  if (runner) {
    runner.host.reset(input);
    return runner;
  }
  const host = new WasiHost({ ...input, files: filesOf(module) });
  const wfn: Runner['wfn'] = {};
  return { host, imports: { ...host.imports, wfn: wfn as WebAssembly.ModuleImports }, wfn };
}

function releaseRunner(module: WebAssembly.Module, runner: Runner): void {
  runner.wfn.memory = undefined;
  runner.host.bind(undefined);
  const list = freeRunners.get(module) ?? [];
  if (list.length >= MAX_RUNNERS) return;
  list.push(runner);
  freeRunners.set(module, list);
}

/** Runs `_start` of a fresh instance with the given argv, environment and stdin. */
export async function runModule(module: WebAssembly.Module, input: RunInput, pooled?: PooledMemoryLimits): Promise<RunResult> {
  const runner = acquireRunner(module, input);
  const host = runner.host;
  const t0 = now();
  let imports = runner.imports;
  const lent = pooled ? acquireMemory(module, pooled) : undefined;
  runner.wfn.memory = lent;
  const extra = usesOutbound(module) || usesKv(module);
  // Functions that make outbound or key-value calls get their per-invocation hosts in a copy.
  if (extra) imports = { ...imports };
  let outbound: OutboundHost | undefined;
  let suspending = false;
  if (usesOutbound(module)) {
    const binding = input.outbound ?? UNAVAILABLE;
    outbound = new OutboundHost({
      settings: binding.settings,
      policy: policyFor(binding.settings.allow),
      perform: binding.perform,
      log: (line) => host.appendStderr(`${line}\n`),
    });
    const api = outbound.imports;
    suspending = binding.suspending === true;
    imports.wfn_http_v1 = suspending ? { ...api.wfn_http_v1, send: new (jspi().Suspending)(api.wfn_http_v1.send) } : api.wfn_http_v1;
  }
  let kv: KvHost | undefined;
  if (usesKv(module)) {
    const binding = input.kv ?? NO_KV;
    kv = new KvHost({ settings: binding.settings, perform: binding.perform, log: (line) => host.appendStderr(`${line}\n`) });
    const api = kv.imports[KV_MODULE];
    if (binding.suspending) {
      suspending = true;
      const wrapped: Record<string, unknown> = { ...api };
      for (const name of KV_SUSPENDING) wrapped[name] = new (jspi().Suspending)(api[name]);
      imports[KV_MODULE] = wrapped as WebAssembly.ModuleImports;
    } else imports[KV_MODULE] = api;
  }
  // Synchronous: the module is compiled already, and a dedicated thread gains nothing from a promise.
  const instance = new WebAssembly.Instance(module, imports);
  const t1 = now();
  const memory = instance.exports.memory as WebAssembly.Memory;
  host.bind(memory);
  outbound?.bind(memory);
  kv?.bind(memory);
  let exitCode: number | null = 0;
  let trap: string | undefined;
  try {
    const start = instance.exports._start as () => void;
    if (suspending) await jspi().promising(start)();
    else start();
  } catch (error) {
    if (error instanceof WasiExit) exitCode = error.code;
    else {
      exitCode = null;
      trap = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }
  const t2 = now();
  outbound?.close();
  kv?.close();
  const memoryBytes = memory.buffer.byteLength;
  if (lent && pooled) releaseMemory(module, pooled, lent);
  const stdout = host.stdout();
  const stderr = host.stderr();
  releaseRunner(module, runner);
  return {
    stdout,
    stderr,
    exitCode,
    trap,
    memoryBytes,
    // Tenths of µs: a run of a few µs must not read as a 25 % change after rounding.
    instantiateUs: Math.round((t1 - t0) * 10000) / 10,
    runUs: Math.round((t2 - t1) * 10000) / 10,
  };
}

export interface InvokeOptions {
  /** The memory cap in bytes, to classify a trap at the cap as a memory-limit hit. */
  memoryCapBytes?: number;
  /** Set when the module imports its memory as `wfn.memory` (recycled memories). */
  pooledMemory?: PooledMemoryLimits;
  /** How outbound calls are made (functions that import wfn_http_v1). */
  outbound?: OutboundBinding;
  /** How the key-value stores are reached (functions that import wfn_kv_v1). */
  kv?: KvBinding;
}

/**
 * True when a trap followed a (nearly) full memory: memory.grow failing at the cap makes
 * allocators abort. wasm gives no hook on memory.grow, so "near" is within an eighth of the
 * cap (a guest growing in big steps stops that far below it). Every target classifies with this.
 */
export function nearMemoryCap(memoryBytes: number, capBytes: number): boolean {
  return memoryBytes >= capBytes - Math.max(capBytes / 8, 2 * 65536);
}

/** Classifies a finished run into the HTTP response the contract prescribes (`head`: the request was a HEAD). */
export function responseFromRun(run: RunResult, options: InvokeOptions = {}, head = false): InvokeResult {
  const timings = { instantiateUs: run.instantiateUs, runUs: run.runUs };
  const fail = (status: number, outcome: Outcome, reason: string): InvokeResult => ({
    response: errorResponse(status),
    stderr: run.stderr,
    outcome,
    reason,
    timings,
  });
  if (run.trap !== undefined) {
    const cap = options.memoryCapBytes;
    if (cap && nearMemoryCap(run.memoryBytes, cap)) {
      return fail(500, 'memory', `memory limit reached (${Math.round(cap / 1048576)} MiB), then: ${run.trap}`);
    }
    return fail(500, 'trap', `the function trapped: ${run.trap}`);
  }
  if (run.exitCode !== 0) return fail(500, 'exit', `the function exited with code ${run.exitCode}`);
  try {
    return { response: parseCgiResponse(run.stdout, { head }), stderr: run.stderr, outcome: 'ok', timings };
  } catch (error) {
    if (error instanceof CgiParseError) return fail(502, 'malformed', `malformed CGI output: ${error.message}`);
    throw error;
  }
}

/** request -> CGI -> fresh instance -> response. */
export async function invokeHttp(
  module: WebAssembly.Module,
  req: HttpRequest,
  fn: FunctionContext,
  options: InvokeOptions = {},
): Promise<InvokeResult> {
  let cgi: CgiInvocation;
  try {
    cgi = buildCgiEnvironment(req, fn);
  } catch (error) {
    if (!(error instanceof CgiRequestError)) throw error;
    return { response: errorResponse(400), stderr: new Uint8Array(0), outcome: 'bad-request', reason: error.message, timings: { instantiateUs: 0, runUs: 0 } };
  }
  const { env, args } = cgi;
  const run = await runModule(module, { env, args, stdin: req.body, outbound: options.outbound, kv: options.kv }, options.pooledMemory);
  return responseFromRun(run, options, req.method.toUpperCase() === 'HEAD');
}
