/**
 * The Cloudflare Worker entry (bundled by esbuild into worker.js at package time, with
 * src/runtime): a module Worker whose `fetch` turns the request into CGI, runs the
 * function's .wasm (a WebAssembly.Module imported by the entry) in a fresh instance, and
 * turns stdout into the Response. No node:* imports; runs in workerd and on Cloudflare.
 *
 * A function that imports wfn_http_v1 calls out through the Worker's own fetch(): `send`
 * suspends the wasm stack (JSPI) while the call runs (performFetch: redirect 'manual', the
 * allow list checked on every hop, the per-call timeout and size limit); the function's own
 * timeout still wins (504), as the isolate is free to notice it while the stack waits.
 */
import { errorResponse } from '../../src/runtime/cgi.js';
import { usesKv, usesOutbound } from '../../src/runtime/contract.js';
import { invokeHttp, type KvBinding, type OutboundBinding } from '../../src/runtime/invoke.js';
import type { KvSettings } from '../../src/runtime/kv/abi.js';
import { performOn } from '../../src/runtime/kv/store.js';
import type { OutboundSettings } from '../../src/runtime/outbound/abi.js';
import { performFetch } from '../../src/runtime/outbound/fetch.js';
import { policyFor } from '../../src/runtime/outbound/policy.js';
import type { HttpRequest, HttpResponse, InvokeResult } from '../../src/runtime/types.js';
import { workersKvStore } from './kv.js';
import { EMULATOR_BINDING, encodeEmulatorHeaders } from './protocol.js';

/** Baked into worker.js by the packager (names only: values are Worker bindings). */
export interface ShimConfig {
  route: string;
  memoryCapBytes: number;
  /** Binding names of configured variables (plain_text) and secrets (secret_text). */
  vars: string[];
  secrets: string[];
  /** [outbound] of wfn.toml (origins and limits only: nothing secret). */
  outbound: OutboundSettings;
  /** The function's timeout (ms): enforced here while it waits on outbound or KV calls. */
  timeoutMs: number;
  /** [kv] of wfn.toml: each store is the KV namespace binding of the same name. */
  kv: KvSettings;
}

type Env = Record<string, unknown>;

/** Statuses whose Response must not carry a body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 204, 205, 304]);

function requestHeaders(headers: Headers): [string, string][] {
  const out: [string, string][] = [];
  headers.forEach((value, name) => {
    // The Headers object joins repeated Cookie headers with ", " (cookie values cannot
    // contain ", "): split them back so the CGI mapping joins them with "; " as elsewhere.
    if (name === 'cookie') for (const part of value.split(', ')) out.push([name, part]);
    else out.push([name, value]);
  });
  return out;
}

function toResponse(res: HttpResponse, extra: [string, string][]): Response {
  const headers = new Headers();
  // append, not set: two Set-Cookie stay two header lines.
  for (const [k, v] of res.headers) headers.append(k, v);
  for (const [k, v] of extra) headers.append(k, v);
  // A HEAD's answer: the length the GET would send, as the function declared it.
  if (res.headLength !== undefined) headers.set('content-length', String(res.headLength));
  const body = NULL_BODY.has(res.status) ? null : (res.body as Uint8Array<ArrayBuffer>);
  // The function's body is final: one it compressed itself (Content-Encoding: gzip) must not be
  // compressed again by the Workers runtime, which it otherwise does for that header.
  return new Response(body, { status: res.status, headers, encodeBody: 'manual' } as ResponseInit);
}

/** The run, or a 504 once the function's timeout passes (the call in flight is aborted). */
async function withinTimeout(run: Promise<InvokeResult>, timeoutMs: number, abort: AbortController, waitingOn: string): Promise<InvokeResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<InvokeResult>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve({
        response: errorResponse(504),
        stderr: new Uint8Array(0),
        outcome: 'timeout',
        reason: `the function ran longer than its timeout (${timeoutMs} ms), waiting on ${waitingOn}`,
        timings: { instantiateUs: 0, runUs: timeoutMs * 1000 },
      });
    }, timeoutMs);
  });
  try {
    return await Promise.race([run, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** At most this many stderr lines per request reach the log (Cloudflare truncates a request's logs anyway). */
export const MAX_STDERR_LINES = 200;

/**
 * One console.error per line of the function's stderr: the tail (`wfn logs`, `wrangler tail`)
 * carries each as one log entry, so each becomes one stderr line there.
 */
function logStderr(stderr: Uint8Array): void {
  const lines = new TextDecoder().decode(stderr).trimEnd().split('\n');
  for (const line of lines.slice(0, MAX_STDERR_LINES)) console.error(line.endsWith('\r') ? line.slice(0, -1) : line);
  if (lines.length > MAX_STDERR_LINES) console.error(`wfn: ${lines.length - MAX_STDERR_LINES} more stderr lines not shown`);
}

export function createWorker(module: WebAssembly.Module, config: ShimConfig) {
  const callsOut = usesOutbound(module);
  const usesStores = usesKv(module);
  return {
    async fetch(request: Request, env: Env): Promise<Response> {
      const fnEnv: Record<string, string> = {};
      for (const name of [...config.vars, ...config.secrets]) {
        const value = env[name];
        if (typeof value === 'string') fnEnv[name] = value;
      }
      const req: HttpRequest = {
        method: request.method,
        url: request.url,
        headers: requestHeaders(request.headers),
        body: new Uint8Array(await request.arrayBuffer()),
        remoteAddr: request.headers.get('cf-connecting-ip') ?? undefined,
      };
      let result: InvokeResult;
      try {
        if (callsOut || usesStores) {
          const abort = new AbortController();
          const outbound: OutboundBinding | undefined = callsOut
            ? {
                settings: config.outbound,
                suspending: true,
                perform: (call) => performFetch(call, { policy: policyFor(config.outbound.allow), settings: config.outbound, signal: abort.signal }),
              }
            : undefined;
          const kv: KvBinding | undefined = usesStores
            ? { settings: config.kv, suspending: true, perform: (request) => performOn((name) => workersKvStore(env, name), request) }
            : undefined;
          const run = invokeHttp(module, req, { route: config.route, env: fnEnv }, { memoryCapBytes: config.memoryCapBytes, outbound, kv });
          const waitingOn = callsOut && usesStores ? 'an outbound or KV call' : callsOut ? 'an outbound call' : 'a KV call';
          result = await withinTimeout(run, config.timeoutMs, abort, waitingOn);
        } else {
          result = await invokeHttp(module, req, { route: config.route, env: fnEnv }, { memoryCapBytes: config.memoryCapBytes });
        }
      } catch (error) {
        result = { response: errorResponse(500), stderr: new Uint8Array(0), outcome: 'trap', reason: `host error: ${String(error)}`, timings: { instantiateUs: 0, runUs: 0 } };
      }
      // Timings and the reason reach the emulator's front proxy (which strips them and logs
      // the reason); the binding exists only in the emulator's workerd config, never on Cloudflare.
      const emulated = env[EMULATOR_BINDING] === '1';
      // stderr and failure reasons go to the Worker's logs (wrangler tail / Workers Logs).
      if (result.stderr.length > 0) logStderr(result.stderr);
      if (result.outcome !== 'ok' && !emulated) console.error(`wfn: ${result.outcome}: ${result.reason ?? ''}`);
      const extra = emulated ? encodeEmulatorHeaders(result) : [];
      try {
        return toResponse(result.response, extra);
      } catch (error) {
        // e.g. a Status the Response constructor refuses (below 200 or above 599).
        const failed: InvokeResult = { ...result, response: errorResponse(502), outcome: 'malformed', reason: `the response cannot be sent: ${String(error)}` };
        if (!emulated) console.error(`wfn: ${failed.outcome}: ${failed.reason}`);
        return toResponse(failed.response, emulated ? encodeEmulatorHeaders(failed) : []);
      }
    },
  };
}
