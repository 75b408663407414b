/**
 * The Lambda numbers for `npm run bench`: zip size, handler init (cold: a fresh Node.js
 * process imports index.mjs, which reads and compiles the .wasm; V8 caches compiled wasm per
 * process, so in-process re-imports would not be cold) and warm invocations in-process.
 */
import { Console } from 'node:console';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { DEFAULT_LIMITS } from '../../src/config/types.js';
import { DEFAULT_OUTBOUND } from '../../src/runtime/outbound/abi.js';
import { execChecked } from '../../src/util/exec.js';
import { extractPackage } from './emulator/index.js';
import { HANDLER_FILE } from './package-config.js';
import { packageLambda } from './package.js';

export interface LambdaBenchOptions {
  /** Cold inits to run, each in a fresh process (default 7). */
  coldRuns?: number;
  /** Warm invocations measured after warm-up (default 2000). */
  warmRuns?: number;
  /** Request path and query of the benchmark event (default "/" and ""). */
  path?: string;
  query?: string;
}

export interface LambdaBench {
  target: 'lambda';
  zipBytes: number;
  unzippedBytes: number;
  /** Importing index.mjs in a fresh process (read wfn.json + the .wasm, compile), ms. */
  coldInitMs: { median: number; min: number; max: number; runs: number };
  /** The first invocation right after init (part of a cold start), ms (median). */
  firstInvokeMs: number;
  /** handler(event) -> result, in-process, warm, µs. */
  warmInvokeUs: { p50: number; p99: number; mean: number; runs: number };
  /** Status of the benchmark invocation (a non-200 means the numbers measure an error path). */
  status: number;
}

/** A Function URL event (GET). */
export function benchEvent(pathname = '/', query = ''): Record<string, unknown> {
  const domain = 'bench0000000000000000000000000000.lambda-url.us-east-1.on.aws';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: pathname,
    rawQueryString: query,
    headers: { host: domain, 'x-forwarded-proto': 'https', 'x-forwarded-port': '443', 'x-forwarded-for': '203.0.113.7', 'user-agent': 'wfn-bench', accept: '*/*' },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'bench',
      domainName: domain,
      domainPrefix: 'bench',
      http: { method: 'GET', path: pathname, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'wfn-bench' },
      requestId: 'bench',
      routeKey: '$default',
      stage: '$default',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: 1767225600000,
    },
    isBase64Encoded: false,
  };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export async function benchLambda(wasmPath: string, options: LambdaBenchOptions = {}): Promise<LambdaBench> {
  const coldRuns = options.coldRuns ?? 7;
  const warmRuns = options.warmRuns ?? 2000;
  const event = benchEvent(options.path, options.query);
  const bundle = await packageLambda({ name: 'wfn-bench', wasmPath, env: {}, secrets: [], limits: DEFAULT_LIMITS, outbound: DEFAULT_OUTBOUND });
  const taskDir = await extractPackage(bundle.archive!);
  const handlerUrl = pathToFileURL(path.join(taskDir, HANDLER_FILE)).href;
  try {
    const probe = `
      const t0 = performance.now();
      const m = await import(${JSON.stringify(handlerUrl)});
      const init = performance.now() - t0;
      const t1 = performance.now();
      await m.handler(${JSON.stringify(event)});
      console.log(JSON.stringify({ init, first: performance.now() - t1 }));`;
    const inits: number[] = [];
    const firsts: number[] = [];
    for (let i = 0; i < coldRuns; i++) {
      const { stdout } = await execChecked(process.execPath, ['--input-type=module', '-e', probe], { env: { PATH: process.env.PATH } });
      const { init, first } = JSON.parse(stdout.trim().split('\n').pop()!) as { init: number; first: number };
      inits.push(init);
      firsts.push(first);
    }
    inits.sort((a, b) => a - b);
    firsts.sort((a, b) => a - b);

    const mod = (await import(`${handlerUrl}?bench=${Date.now()}`)) as { handler(e: unknown): Promise<{ statusCode: number }> };
    let status = 0;
    const samples: number[] = [];
    // The handler logs a request line per invocation (CloudWatch on Lambda): formatted as there, but
    // written nowhere, so thousands of them do not flood the bench's own output.
    const consoleLog = console.log;
    const discard = new Console(new Writable({ write: (_chunk, _encoding, done) => done() }));
    console.log = discard.log.bind(discard);
    try {
      for (let i = 0; i < Math.min(500, warmRuns); i++) status = (await mod.handler(event)).statusCode;
      for (let i = 0; i < warmRuns; i++) {
        const t = performance.now();
        await mod.handler(event);
        samples.push((performance.now() - t) * 1000);
      }
    } finally {
      console.log = consoleLog;
    }
    samples.sort((a, b) => a - b);
    return {
      target: 'lambda',
      zipBytes: bundle.compressedSize!,
      unzippedBytes: bundle.size,
      coldInitMs: { median: round(quantile(inits, 0.5)), min: round(inits[0]), max: round(inits[inits.length - 1]), runs: coldRuns },
      firstInvokeMs: round(quantile(firsts, 0.5)),
      warmInvokeUs: { p50: round(quantile(samples, 0.5), 1), p99: round(quantile(samples, 0.99), 1), mean: round(samples.reduce((s, x) => s + x, 0) / samples.length, 1), runs: warmRuns },
      status,
    };
  } finally {
    await rm(taskDir, { recursive: true, force: true });
  }
}
