/**
 * Worker threads that run the emulated requests. V8 cannot interrupt wasm on the thread
 * that runs it, so a request that overruns its timeout has its worker terminated and
 * replaced, and gets a 504; the emulator keeps answering.
 */
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errorResponse } from '../../../src/runtime/cgi.js';
import type { ImportEntry } from '../../../src/runtime/wasm-imports.js';
import type { DownstreamRequest } from './hostcalls.js';
import type { FastlyOutcome, FastlyRunResult } from './run.js';
import type { WorkerRequest } from './worker.js';
import { TimedWorkerPool } from '../../../src/runtime/node/timed-pool.js';
import { siblingFile } from '../../../src/util/paths.js';
import { kvWorkerSetup, type EmulatorKv } from './kv.js';

export interface PoolOptions {
  module: WebAssembly.Module;
  imports: ImportEntry[];
  memoryCapBytes: number;
  timeoutMs: number;
  size?: number;
  /** Secret stores the program can open, by name. */
  secretStores?: Record<string, Record<string, string>>;
  /** False: the service has no dynamic backends (register_dynamic_backend is refused). */
  dynamicBackends?: boolean;
  /** KV stores linked to the service, and where they are kept. */
  kv?: EmulatorKv;
}

const bundled = new Map<string, Promise<string>>();

/**
 * A thread's script: <name>.js beside this file; from the TypeScript sources (tests), <name>.ts
 * bundled by esbuild. The program's worker, and its network thread (backend-thread.ts).
 */
export async function threadScript(name: 'worker' | 'backend-thread'): Promise<string> {
  const entry = siblingFile(import.meta.url, name, 'bundle');
  if (entry.endsWith('.js')) return entry;
  let script = bundled.get(name);
  if (!script) {
    script = (async () => {
      const { build } = await import('esbuild');
      const outDir = path.join(os.tmpdir(), 'wfn-fastly-emulator');
      await mkdir(outDir, { recursive: true });
      const outfile = path.join(outDir, `${name}-${process.pid}.mjs`);
      await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile, logLevel: 'silent' });
      return outfile;
    })();
    bundled.set(name, script);
  }
  return script;
}

export function failedRun(status: number, outcome: FastlyOutcome, reason: string, runUs = 0): FastlyRunResult {
  return {
    response: errorResponse(status),
    outcome,
    reason,
    logs: [],
    stdout: new Uint8Array(0),
    stderr: new Uint8Array(0),
    unsupported: [],
    timings: { instantiateUs: 0, runUs },
  };
}

/** The emulator's workers: the shared timed pool, each worker holding the one program it serves. */
export class EmulatorPool {
  private constructor(
    private readonly pool: TimedWorkerPool<{ req: DownstreamRequest; requestId: string }, FastlyRunResult>,
    private readonly timeoutMs: number,
  ) {}

  static async create(options: PoolOptions): Promise<EmulatorPool> {
    const init: WorkerRequest = {
      type: 'load',
      module: options.module,
      imports: options.imports,
      memoryCapBytes: options.memoryCapBytes,
      netScript: await threadScript('backend-thread'),
      secretStores: options.secretStores,
      dynamicBackends: options.dynamicBackends,
      kvStores: options.kv?.stores,
    };
    const size = options.size ?? Math.min(4, Math.max(1, os.availableParallelism()));
    const pool = new TimedWorkerPool<{ req: DownstreamRequest; requestId: string }, FastlyRunResult>(
      { script: await threadScript('worker'), size, init, failure: failedRun, noun: 'program', setup: options.kv ? await kvWorkerSetup(options.kv) : undefined },
      ({ req, requestId }) => ({ message: { type: 'invoke', req, requestId } }),
    );
    return new EmulatorPool(pool, options.timeoutMs);
  }

  /** Runs one request; never rejects: failures come back as 5xx results. */
  invoke(req: DownstreamRequest, requestId: string): Promise<FastlyRunResult> {
    return this.pool.run({ req, requestId }, this.timeoutMs);
  }

  /** Workers replaced after a timeout or a crash. */
  get replaced(): number {
    return this.pool.replaced;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
