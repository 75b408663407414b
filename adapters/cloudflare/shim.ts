/**
 * The Cloudflare Worker entry (bundled by esbuild into worker.js at package time, with
 * src/runtime): a module Worker whose `fetch` turns the request into CGI, runs the
 * function's .wasm (a WebAssembly.Module imported by the entry) in a fresh instance, and
 * turns stdout into the Response. No node:* imports; runs in workerd and on Cloudflare.
 */
import { errorResponse } from '../../src/runtime/cgi.js';
import { invokeHttp } from '../../src/runtime/invoke.js';
import type { HttpRequest, HttpResponse, InvokeResult } from '../../src/runtime/types.js';
import { EMULATOR_BINDING, encodeEmulatorHeaders } from './protocol.js';

/** Baked into worker.js by the packager (names only: values are Worker bindings). */
export interface ShimConfig {
  route: string;
  memoryCapBytes: number;
  /** Binding names of configured variables (plain_text) and secrets (secret_text). */
  vars: string[];
  secrets: string[];
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
  const body = NULL_BODY.has(res.status) ? null : (res.body as Uint8Array<ArrayBuffer>);
  // The function's body is final: one it compressed itself (Content-Encoding: gzip) must not be
  // compressed again by the Workers runtime, which it otherwise does for that header.
  return new Response(body, { status: res.status, headers, encodeBody: 'manual' } as ResponseInit);
}

export function createWorker(module: WebAssembly.Module, config: ShimConfig) {
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
        result = await invokeHttp(module, req, { route: config.route, env: fnEnv }, { memoryCapBytes: config.memoryCapBytes });
      } catch (error) {
        result = { response: errorResponse(500), stderr: new Uint8Array(0), outcome: 'trap', reason: `host error: ${String(error)}`, timings: { instantiateUs: 0, runUs: 0 } };
      }
      // Timings and the reason reach the emulator's front proxy (which strips them and logs
      // the reason); the binding exists only in the emulator's workerd config, never on Cloudflare.
      const emulated = env[EMULATOR_BINDING] === '1';
      // stderr and failure reasons go to the Worker's logs (wrangler tail / Workers Logs).
      if (result.stderr.length > 0) console.error(new TextDecoder().decode(result.stderr).trimEnd());
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
