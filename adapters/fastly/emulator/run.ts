/**
 * One request through a Fastly Compute module: a fresh instance, the emulated hostcalls,
 * wfn's own WASI host for the module's wasi_snapshot_preview1 imports, `_start`, and the
 * response the program sent downstream. Platform-neutral (runs inside the worker threads).
 */
import { errorResponse } from '../../../src/runtime/cgi.js';
import { nearMemoryCap } from '../../../src/runtime/invoke.js';
import type { HttpResponse, Outcome } from '../../../src/runtime/types.js';
import { WasiExit, WasiHost } from '../../../src/runtime/wasi.js';
import type { ImportEntry } from '../../../src/runtime/wasm-imports.js';
import { FastlyHost, type DownstreamRequest, type HostOptions } from './hostcalls.js';

export type FastlyOutcome = Outcome | 'noresponse';

export interface FastlyRunOptions {
  /** The module's imports with their types (for the stubs of hostcalls not emulated). */
  imports: ImportEntry[];
  /** Memory cap in bytes, to tell a memory-limit trap from others. */
  memoryCapBytes?: number;
  requestId?: string;
  /** Backend requests, secret stores, dynamic backends: as the host offers them. */
  net?: HostOptions['net'];
  secretStores?: HostOptions['secretStores'];
  dynamicBackends?: boolean;
  kvStores?: HostOptions['kvStores'];
}

export interface FastlyRunResult {
  response: HttpResponse;
  outcome: FastlyOutcome;
  reason?: string;
  /** fastly_log lines and emulator notes (unsupported hostcalls). */
  logs: string[];
  stdout: Uint8Array;
  stderr: Uint8Array;
  unsupported: string[];
  timings: { instantiateUs: number; runUs: number };
}

/** What a Fastly service sees in its environment (as Fastly's local tooling sets it). */
export function fastlyEnvironment(requestId: string): [string, string][] {
  return [
    ['FASTLY_CACHE_GENERATION', '0'],
    ['FASTLY_CUSTOMER_ID', '0000000000000000000000'],
    ['FASTLY_HOSTNAME', 'localhost'],
    ['FASTLY_POP', 'LCL'],
    ['FASTLY_REGION', 'Local'],
    ['FASTLY_SERVICE_ID', '0000000000000000000000'],
    ['FASTLY_SERVICE_VERSION', '0'],
    ['FASTLY_TRACE_ID', requestId],
    ['FASTLY_IS_STAGING', '0'],
  ];
}

export async function runFastly(module: WebAssembly.Module, req: DownstreamRequest, options: FastlyRunOptions): Promise<FastlyRunResult> {
  const logs: string[] = [];
  const requestId = options.requestId ?? '0'.repeat(32);
  const host = new FastlyHost(req, {
    log: (line) => logs.push(line),
    requestId,
    net: options.net,
    secretStores: options.secretStores,
    dynamicBackends: options.dynamicBackends,
    kvStores: options.kvStores,
  });
  const wasi = new WasiHost({ args: ['main.wasm'], env: fastlyEnvironment(requestId), stdin: new Uint8Array(0) });
  const imports = { ...host.imports(options.imports), ...wasi.imports } as WebAssembly.Imports;

  const t0 = performance.now();
  const instance = await WebAssembly.instantiate(module, imports);
  const t1 = performance.now();
  const memory = instance.exports.memory as WebAssembly.Memory;
  host.bind(memory);
  wasi.bind(memory);

  let outcome: FastlyOutcome = 'ok';
  let reason: string | undefined;
  try {
    (instance.exports._start as () => void)();
  } catch (error) {
    if (error instanceof WasiExit) {
      if (error.code !== 0) {
        outcome = 'exit';
        reason = `the program exited with code ${error.code}`;
      }
    } else {
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const cap = options.memoryCapBytes;
      outcome = cap && nearMemoryCap(memory.buffer.byteLength, cap) ? 'memory' : 'trap';
      reason = outcome === 'memory' ? `memory limit reached (${Math.round(cap! / 1048576)} MiB), then: ${message}` : `the program trapped: ${message}`;
    }
  }
  const runUs = Math.round((performance.now() - t1) * 1000);

  // What the program sent downstream stands, whatever happened after (as on Fastly).
  let response = host.response();
  if (!response) {
    if (outcome === 'ok') {
      outcome = 'noresponse';
      reason = 'the program ended without sending a response';
    }
    response = errorResponse(500);
  }
  return {
    response,
    outcome,
    reason,
    logs,
    stdout: wasi.stdout(),
    stderr: wasi.stderr(),
    unsupported: host.unsupported,
    timings: { instantiateUs: Math.round((t1 - t0) * 1000), runUs },
  };
}
