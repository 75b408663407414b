/**
 * `wfn dev --target cloudflare`: the packaged bundle in the real workerd, behind a small
 * front proxy on the requested host:port. The proxy
 *   - logs each request in the shared access-log format (timings come from the shim in
 *     x-wfn-* response headers, which it strips),
 *   - enforces the configured timeout: workerd does not enforce CPU limits locally, and a
 *     runaway loop blocks its isolate, so an overrun gets a 504 and workerd is restarted
 *     (a function that calls out or uses KV is given a moment more: while it waits on a call the
 *     shim answers 504 itself at the timeout, and workerd, not stuck, is left running),
 *   - sets CF-Connecting-IP from the client's address, as Cloudflare's edge does,
 *   - forwards the request line's path and a validated Host only (a malformed one is a 400), so
 *     the Worker's request.url is built the way the other hosts build theirs;
 * and it serves each KV namespace binding of the Worker from a loopback KV service
 * (kv-service.ts) over one of wfn's stores, started before workerd and kept across its restarts.
 */
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import type { Bundle, EmulateOptions, Emulator } from '../../src/target/types.js';
import { errorResponse } from '../../src/runtime/cgi.js';
import type { HttpResponse, InvokeResult } from '../../src/runtime/types.js';
import { accessLogLine } from '../../src/http/access-log.js';
import { listen } from '../../src/http/listen.js';
import { BadRequestError, BodyTooLargeError, createHttpServer, readBody, requestUrl, sendHttpResponse } from '../../src/http/node-http.js';
import { decodeEmulatorHeaders, REASON_HEADER, TIMINGS_HEADER } from './protocol.js';
import { OUTBOUND_MODULE } from '../../src/runtime/outbound/abi.js';
import { KV_MODULE } from '../../src/runtime/kv/abi.js';
import { readImports } from '../../src/runtime/wasm-imports.js';
import { missingSecretsMessage, secretValues } from '../../src/config/secrets.js';
import type { KvStore } from '../../src/runtime/kv/store.js';
import { startKvService, type KvService } from './kv-service.js';
import { kvServiceName, wasmFileName, WORKERD_CONFIG_FILE } from './package.js';
import { startWorkerd, type WorkerdProcess } from './workerd.js';

/** How long past the function's timeout the proxy waits for the shim's own 504 before restarting workerd. */
const SHIM_TIMEOUT_GRACE_MS = 1000;

/** Cloudflare accepts request bodies up to 100 MB on the free plan. */
const MAX_BODY = 100 * 1024 * 1024;
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer']);

export interface CloudflareEmulatorOptions extends EmulateOptions {
  /** Overrides the artifact's timeout (ms). */
  timeoutMs?: number;
  /** The environment workerd runs with (default: process.env; secrets are read from it). */
  env?: NodeJS.ProcessEnv;
  /** The store behind each `[kv] stores` name (required when the artifact has stores). */
  kvStore?: (name: string) => KvStore;
  /** The KV services' clock (ms), for expiry of absolute `expiration` times (tests move it). */
  kvNow?: () => number;
}

export interface CloudflareEmulator extends Emulator {
  /** How many times workerd was (re)started: 1 + one per timeout or crash. */
  readonly starts: number;
}

interface Forwarded {
  status: number;
  headers: [string, string][];
  body: Buffer;
}

class WorkerdGone extends Error {}

export async function startCloudflareEmulator(bundle: Bundle, options: CloudflareEmulatorOptions): Promise<CloudflareEmulator> {
  const configFile = path.join(bundle.dir, WORKERD_CONFIG_FILE);
  const timeoutMs = options.timeoutMs ?? bundle.artifact.limits.timeoutMs;
  // A function that waits on outbound or KV calls (JSPI) does not block the isolate: the shim answers its 504.
  const callsOut = readImports(new Uint8Array(readFileSync(path.join(bundle.dir, wasmFileName(bundle.artifact.name))))).some(
    (i) => i.module === OUTBOUND_MODULE || i.module === KV_MODULE,
  );
  const restartAfterMs = callsOut ? timeoutMs + SHIM_TIMEOUT_GRACE_MS : timeoutMs;
  const env = options.env ?? process.env;
  const { missing } = secretValues(bundle.artifact.secrets, env);
  if (missing.length > 0) options.log(`cloudflare: ${missingSecretsMessage(missing)}`);

  const stores = bundle.artifact.kv?.stores ?? [];
  if (stores.length > 0 && !options.kvStore) throw new Error('the Cloudflare emulator needs kvStore for the [kv] stores');
  const kvServices: KvService[] = [];
  const workerdArgs: string[] = [];
  for (const name of stores) {
    const service = await startKvService(options.kvStore!(name), options.log, options.kvNow);
    kvServices.push(service);
    workerdArgs.push('--external-addr', `${kvServiceName(name)}=127.0.0.1:${service.port}`);
  }
  const closeKv = () => Promise.all(kvServices.map((s) => s.close()));

  let closed = false;
  let starts = 0;
  let agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  // `current` is the running workerd or its (re)start in progress: requests wait for it.
  // `active` is the process `current` resolved to (undefined while a restart is underway).
  let active: WorkerdProcess | undefined;
  let current!: Promise<WorkerdProcess>;
  const launch = (before?: WorkerdProcess): Promise<WorkerdProcess> => {
    starts++;
    const next = (async () => {
      if (before) {
        await before.stop();
        agent.destroy();
        agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
      }
      const wd = await startWorkerd(configFile, { env, output: (line) => options.log(line), args: workerdArgs });
      active = wd;
      // A crash (not our kill) restarts it too, so the emulator keeps answering.
      void wd.exited.then(() => restart(wd));
      return wd;
    })();
    current = next;
    return next;
  };
  const restart = (dead: WorkerdProcess) => {
    if (closed || active !== dead) return; // already restarting, or shutting down
    active = undefined;
    launch(dead).catch((error) => options.log(`workerd failed to restart: ${(error as Error).message}`));
  };
  try {
    await launch();
  } catch (error) {
    await closeKv();
    throw error;
  }

  const forward = (wd: WorkerdProcess, req: IncomingMessage, url: URL, body: Uint8Array, signal: AbortSignal): Promise<Forwarded> =>
    new Promise((resolve, reject) => {
      const headers: [string, string][] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        const name = req.rawHeaders[i].toLowerCase();
        if (HOP_BY_HOP.has(name) || name === 'content-length' || name === 'cf-connecting-ip' || name === 'host') continue;
        headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
      }
      // The validated host (the request line's authority for an absolute-form target); without one,
      // workerd would build request.url from its private port.
      headers.push(['host', url.host]);
      headers.push(['content-length', String(body.length)]);
      headers.push(['cf-connecting-ip', (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '')]);
      const upstream = http.request(
        { host: '127.0.0.1', port: wd.port, method: req.method, path: url.pathname + url.search, headers: headers.flat(), agent, signal },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const out: [string, string][] = [];
            for (let i = 0; i < res.rawHeaders.length; i += 2) out.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
            resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
          });
          res.on('error', (e) => reject(new WorkerdGone(e.message)));
        },
      );
      upstream.on('error', (e) => reject(signal.aborted ? e : new WorkerdGone(e.message)));
      upstream.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const reply = (response: HttpResponse, result: Omit<InvokeResult, 'response' | 'stderr'>) => {
      if (!res.headersSent) sendHttpResponse(res, response);
      options.log(accessLogLine(req.method ?? 'GET', req.url ?? '/', { response, ...result }, performance.now() - started));
    };
    const failure = (status: number, outcome: InvokeResult['outcome'], reason: string) =>
      reply(errorResponse(status), { outcome, reason, timings: { instantiateUs: 0, runUs: Math.round((performance.now() - started) * 1000) } });

    let url: URL;
    try {
      url = requestUrl(req);
    } catch (error) {
      if (error instanceof BadRequestError) return failure(400, 'bad-request', `bad request: ${error.message}`);
      throw error;
    }
    let body: Uint8Array;
    try {
      body = await readBody(req, MAX_BODY);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return failure(413, 'busy', error.message);
      throw error;
    }
    if (closed) return failure(503, 'busy', 'the emulator is shutting down');
    let wd: WorkerdProcess;
    try {
      wd = await current;
    } catch (error) {
      return failure(503, 'busy', `workerd is not running: ${(error as Error).message}`);
    }
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
      // A runaway loop holds workerd's isolate: nothing else would be answered until it ends.
      restart(wd);
    }, restartAfterMs);
    try {
      const got = await forward(wd, req, url, body, abort.signal);
      const timings = got.headers.find(([k]) => k === TIMINGS_HEADER)?.[1];
      const reason = got.headers.find(([k]) => k === REASON_HEADER)?.[1];
      const info = decodeEmulatorHeaders(timings, reason);
      const headers = got.headers.filter(([k]) => k !== TIMINGS_HEADER && k !== REASON_HEADER && k !== 'content-length' && !HOP_BY_HOP.has(k));
      const response: HttpResponse = { status: got.status, headers, body: got.body };
      // A HEAD's answer keeps the length workerd sent (the GET's), as Cloudflare's edge does.
      const length = got.headers.find(([k]) => k === 'content-length')?.[1];
      if (req.method === 'HEAD' && got.body.length === 0 && length !== undefined && /^\d{1,15}$/.test(length)) response.headLength = Number(length);
      reply(response, info ?? { outcome: got.status >= 500 ? 'trap' : 'ok', reason: got.status >= 500 ? 'workerd answered an error' : undefined, timings: { instantiateUs: 0, runUs: 0 } });
    } catch (error) {
      if (timedOut) return failure(504, 'timeout', `the function ran longer than its timeout (${timeoutMs} ms); workerd was restarted (on Cloudflare, the CPU limit ends it with error 1102)`);
      if (error instanceof WorkerdGone) {
        return failure(503, 'busy', `workerd stopped during the request (${error.message})`);
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  };

  const server: Server = createHttpServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) sendHttpResponse(res, errorResponse(500));
      options.log(`${req.method} ${req.url} 500 ${(error as Error).message}`);
    });
  });
  let url: string;
  try {
    url = `${await listen(server, options.port, options.host)}/`;
  } catch (error) {
    await (await current).stop();
    await closeKv();
    throw error;
  }

  return {
    url,
    get starts() {
      return starts;
    },
    async close() {
      closed = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      agent.destroy();
      try {
        await (await current).stop();
      } catch {
        // a failed (re)start has nothing to stop
      }
      await closeKv();
    },
  };
}
