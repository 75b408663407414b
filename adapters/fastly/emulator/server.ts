/**
 * The local Fastly Compute emulator: an HTTP server on 127.0.0.1 that runs a Fastly module
 * (the merged main.wasm, or any module built for Fastly) per request in a fresh instance,
 * on worker threads with a timeout and a memory cap.
 */
import { randomBytes } from 'node:crypto';
import { errorResponse } from '../../../src/runtime/cgi.js';
import { capMemory } from '../../../src/runtime/module.js';
import { accessLogLine } from '../../../src/http/access-log.js';
import { listen } from '../../../src/http/listen.js';
import { BodyTooLargeError, createHttpServer, sendHttpResponse, toHttpRequest } from '../../../src/http/node-http.js';
import { UserError } from '../../../src/util/errors.js';
import { readImports } from '../../../src/runtime/wasm-imports.js';
import type { EmulatorKv } from './kv.js';
import { EmulatorPool } from './pool.js';
import type { FastlyRunResult } from './run.js';

export interface FastlyEmulatorOptions {
  host: string;
  port: number;
  log(line: string): void;
  memoryMiB: number;
  timeoutMs: number;
  /** Largest request body accepted (bytes). */
  maxBodyBytes?: number;
  workers?: number;
  /** Secret stores the program can open, by name (values from `wfn dev`'s environment). */
  secretStores?: Record<string, Record<string, string>>;
  /** False: the emulated service has no dynamic backends. */
  dynamicBackends?: boolean;
  /** KV stores linked to the service (fastly_kv_store), kept as SQLite files in `dir`. */
  kv?: EmulatorKv;
}

export interface FastlyEmulator {
  url: string;
  close(): Promise<void>;
  pool: EmulatorPool;
}

/** Framing and connection headers belong to the host (Fastly's automatic framing mode). */
const HOST_OWNED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/** Why a compiled module cannot run on Fastly (or in this emulator); empty when it can. */
export function fastlyModuleProblems(module: WebAssembly.Module): string[] {
  const problems: string[] = [];
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== 'wasi_snapshot_preview1' && !imp.module.startsWith('fastly_')) {
      problems.push(`import ${imp.module}.${imp.name} is neither a Fastly hostcall nor WASI preview1`);
    }
  }
  const exports = WebAssembly.Module.exports(module);
  if (!exports.some((e) => e.name === '_start' && e.kind === 'function')) problems.push('export "_start" is missing');
  if (!exports.some((e) => e.name === 'memory' && e.kind === 'memory')) problems.push('export "memory" is missing');
  return problems;
}

function logResult(log: (line: string) => void, result: FastlyRunResult): void {
  for (const line of result.logs) log(`  ${line}`);
  for (const [name, bytes] of [['stdout', result.stdout], ['stderr', result.stderr]] as const) {
    const textOut = new TextDecoder().decode(bytes).trimEnd();
    // The adapter's request line (adapter.wat, for Fastly's log tailing) repeats the access-log line printed here.
    if (textOut) for (const line of textOut.split('\n')) if (!(name === 'stdout' && line.startsWith('wfn-request '))) log(`  ${name}: ${line}`);
  }
}

export async function startFastlyEmulator(wasm: Uint8Array, options: FastlyEmulatorOptions): Promise<FastlyEmulator> {
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(capMemory(wasm, options.memoryMiB) as BufferSource);
  } catch (error) {
    throw new UserError(`The module cannot run on Fastly Compute: ${(error as Error).message}`);
  }
  const problems = fastlyModuleProblems(module);
  if (problems.length > 0) {
    throw new UserError(`The module cannot run on Fastly Compute:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  const pool = await EmulatorPool.create({
    module,
    imports: readImports(wasm),
    memoryCapBytes: options.memoryMiB * 1024 * 1024,
    timeoutMs: options.timeoutMs,
    size: options.workers,
    secretStores: options.secretStores,
    kv: options.kv,
    dynamicBackends: options.dynamicBackends,
  });
  const maxBody = options.maxBodyBytes ?? 64 * 1024 * 1024;

  const server = createHttpServer(async (req, res) => {
    const t0 = performance.now();
    let result: FastlyRunResult | undefined;
    try {
      const httpReq = await toHttpRequest(req, maxBody);
      result = await pool.invoke(
        {
          ...httpReq,
          // uri_get hands out the URL as a parsed-and-serialized URL, as Fastly does.
          url: new URL(httpReq.url).href,
          localAddr: req.socket.localAddress?.replace(/^::ffff:/, ''),
          lengthUnknown: req.headers['content-length'] === undefined && req.headers['transfer-encoding'] !== undefined,
        },
        randomBytes(16).toString('hex'),
      );
      const response = { ...result.response, headers: result.response.headers.filter(([k]) => !HOST_OWNED.has(k.toLowerCase())) };
      sendHttpResponse(res, response, [['x-wfn-target', 'fastly']]);
    } catch (error) {
      // Anything else thrown before the function ran is the request's fault (BadRequestError: target or Host).
      const status = error instanceof BodyTooLargeError ? 413 : 400;
      if (!res.headersSent) sendHttpResponse(res, errorResponse(status));
      else res.destroy();
      options.log(`${req.method} ${req.url} ${status} ${(error as Error).message}`);
      return;
    }
    // (the line only prints the outcome, which may also be 'noresponse' here)
    options.log(accessLogLine(req.method ?? 'GET', req.url ?? '/', result as Parameters<typeof accessLogLine>[2], performance.now() - t0));
    logResult(options.log, result);
  });

  let url: string;
  try {
    url = await listen(server, options.port, options.host);
  } catch (error) {
    await pool.close();
    throw error;
  }
  return {
    url: `${url}/`,
    pool,
    async close() {
      await pool.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
