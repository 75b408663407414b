/**
 * The Lambda handler shim: esbuild bundles this file with src/runtime/ into index.mjs.
 * Init (top level, once per sandbox): read wfn.json and the .wasm next to this file and
 * compile it. Each invocation: a fresh instance, CGI in and out, a payload 2.0 result.
 * Never import this module from wfn itself: its top level reads the packaged files.
 */
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { MessageChannel, Worker } from 'node:worker_threads';
import { errorResponse } from '../../src/runtime/cgi.js';
import { usesKv, usesOutbound } from '../../src/runtime/contract.js';
import { invokeHttp, type KvBinding, type OutboundBinding } from '../../src/runtime/invoke.js';
import { blockingKv } from '../../src/runtime/node/kv-link.js';
import { DEFAULT_OUTBOUND } from '../../src/runtime/outbound/abi.js';
import { blockingPerform } from '../../src/runtime/node/outbound.js';
import type { InvokeResult } from '../../src/runtime/types.js';
import { requestLogText } from './request-log.js';
import { PAYLOAD_LIMIT, requestFromEvent, resultFromResponse, resultSize, type LambdaHttpResult } from './events.js';
import { CONFIG_FILE, KV_HELPER_FILE, OUTBOUND_HELPER_FILE, type KvHelperData, type OutboundHelperData, type PackageConfig } from './package-config.js';

const config = JSON.parse(readFileSync(new URL(CONFIG_FILE, import.meta.url), 'utf8')) as PackageConfig;
const compiled = await WebAssembly.compile(readFileSync(new URL(config.wasm, import.meta.url)));
const memoryCapBytes = config.memoryMiB * 1024 * 1024;
// Lambda's environment is fixed for the sandbox's life: read the configured variables once.
const env: Record<string, string> = {};
for (const name of config.env) {
  const value = process.env[name];
  if (value !== undefined) env[name] = value;
}

/**
 * Outbound HTTP: the handler's thread blocks on Atomics.wait while a helper thread makes the
 * call. The helper starts here, at init, so it is running before the first call blocks this thread.
 */
async function startHelper(): Promise<{ outbound?: OutboundBinding; kv?: KvBinding }> {
  const callsOut = usesOutbound(compiled);
  const kvConfig = usesKv(compiled) ? config.kv : undefined;
  if (!callsOut && !kvConfig) return {};
  const settings = config.outbound ?? DEFAULT_OUTBOUND;
  const channel = new MessageChannel();
  const cell = new SharedArrayBuffer(4);
  const outboundData: OutboundHelperData = { port: channel.port2, cell };
  // Key-value calls go to DynamoDB through one helper thread, which makes the outbound calls too.
  const kvChannel = kvConfig ? new MessageChannel() : undefined;
  const kvCell = new SharedArrayBuffer(4);
  const workerData: OutboundHelperData | KvHelperData = kvConfig
    ? { kv: { port: kvChannel!.port2, cell: kvCell }, tables: kvConfig.tables, ...(callsOut ? { outbound: outboundData } : {}) }
    : outboundData;
  const transferList = [...(callsOut ? [channel.port2] : []), ...(kvChannel ? [kvChannel.port2] : [])];
  const helper = new Worker(new URL(kvConfig ? KV_HELPER_FILE : OUTBOUND_HELPER_FILE, import.meta.url), { workerData, transferList });
  // The kv helper says when it is ready (a helper that fails to load rejects here: the init fails, visibly).
  await once(helper, kvConfig ? 'message' : 'online');
  helper.unref();
  const result: { outbound?: OutboundBinding; kv?: KvBinding } = {};
  if (callsOut) {
    const perform = blockingPerform({ port: channel.port1, cell });
    result.outbound = { settings, perform: (request) => perform(request, settings) };
  }
  if (kvConfig) {
    const perform = blockingKv({ port: kvChannel!.port1, cell: kvCell });
    result.kv = { settings: { stores: kvConfig.stores }, perform: (request) => perform(config.wasm, request) };
  }
  return result;
}
const { outbound, kv } = await startHelper();

/** How the last invocation went (for the local gateway's access log; one invocation at a time per sandbox). */
export interface InvocationRecord {
  outcome: InvokeResult['outcome'];
  reason?: string;
  timings: InvokeResult['timings'];
}
export let lastInvocation: InvocationRecord | undefined;

const decoder = new TextDecoder();

function failed(status: number, reason: string): InvokeResult {
  return { response: errorResponse(status), stderr: new Uint8Array(0), outcome: status === 502 ? 'malformed' : 'trap', reason, timings: { instantiateUs: 0, runUs: 0 } };
}

export async function handler(event: unknown): Promise<LambdaHttpResult> {
  // Not an HTTP event (a direct Invoke with {} ...): throw, so the caller sees why.
  const { req, route } = requestFromEvent(event);
  const started = performance.now();
  let result: InvokeResult;
  try {
    result = await invokeHttp(compiled, req, { route, env }, { memoryCapBytes, outbound, kv });
  } catch (error) {
    result = failed(500, `host error: ${error instanceof Error ? error.message : String(error)}`);
  }
  // The function's stderr and the reason of a 5xx go to CloudWatch Logs.
  if (result.stderr.length > 0) console.error(decoder.decode(result.stderr).trimEnd());
  let out = resultFromResponse(result.response);
  if (result.outcome === 'ok' && resultSize(out) > PAYLOAD_LIMIT) {
    // Lambda would drop the oversized result with an opaque error; answer a clear 502 instead.
    result = failed(502, `the response (${resultSize(out)} bytes as JSON) is over Lambda's ${PAYLOAD_LIMIT}-byte payload limit`);
    out = resultFromResponse(result.response);
  }
  if (result.outcome !== 'ok') console.error(`wfn: ${result.response.status} ${result.outcome}: ${result.reason ?? ''}`);
  // One request line per invocation in CloudWatch Logs, parsed by `wfn logs` (no headers, no body: nothing secret).
  const url = new URL(req.url);
  console.log(requestLogText({ method: req.method, path: `${url.pathname}${url.search}`, status: result.response.status, durationMs: Math.round((performance.now() - started) * 1000) / 1000, outcome: result.outcome }));
  lastInvocation = { outcome: result.outcome, reason: result.reason, timings: result.timings };
  return out;
}
