/**
 * `wfn dev --target component`: the packaged component in `jco serve` (a real wasi:http host
 * no one here wrote: jco transpiles the component and serves it with preview2-shim, a fresh
 * worker and instance per request), behind a small front proxy on the requested host:port.
 * The proxy
 *   - streams the response through as the component writes it,
 *   - logs each request in the shared access-log format,
 *   - enforces the configured timeout: jco serve has none, and a runaway loop holds its
 *     worker forever, so an overrun gets a 504 and jco serve is restarted,
 *   - answers a trap with wfn's own 500 page: jco answers an instance that trapped before it
 *     set a response with `502 Isolated component request failed` (its error goes to the log),
 *     where wasmtime serve and Spin answer 500.
 */
import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { errorResponse } from '../../src/runtime/cgi.js';
import type { HttpResponse, Outcome } from '../../src/runtime/types.js';
import type { EmulateOptions, Emulator } from '../../src/target/types.js';
import { accessLogLine } from '../../src/http/access-log.js';
import { listen } from '../../src/http/listen.js';
import { BadRequestError, createHttpServer, requestUrl, sendHttpResponse } from '../../src/http/node-http.js';
import { startJcoServe, type JcoServeProcess } from './jco-serve.js';

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host']);

/** jco serve's answer when the request's worker failed (the instance trapped before it set a response). */
export const JCO_FAILURE_BODY = 'Isolated component request failed';

export interface ComponentEmulatorOptions extends EmulateOptions {
  timeoutMs: number;
  /** Workers jco serve keeps ready. */
  poolSize?: number;
}

export interface ComponentEmulator extends Emulator {
  /** How many times jco serve was (re)started: 1 + one per timeout or crash. */
  readonly starts: number;
  /** The running jco serve's process id (its process group), once started. */
  hostPid(): Promise<number>;
}

class HostGone extends Error {}

export async function startComponentEmulator(componentPath: string, options: ComponentEmulatorOptions): Promise<ComponentEmulator> {
  let closed = false;
  let starts = 0;
  let agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let active: JcoServeProcess | undefined;
  let current!: Promise<JcoServeProcess>;
  const launch = (before?: JcoServeProcess): Promise<JcoServeProcess> => {
    starts++;
    const next = (async () => {
      if (before) {
        await before.stop();
        agent.destroy();
        agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
      }
      const jco = await startJcoServe(componentPath, { output: (line) => options.log(line), poolSize: options.poolSize });
      active = jco;
      // A crash (not our kill) restarts it too, so the emulator keeps answering.
      void jco.exited.then(() => restart(jco));
      return jco;
    })();
    current = next;
    return next;
  };
  const restart = (dead: JcoServeProcess) => {
    if (closed || active !== dead) return;
    active = undefined;
    launch(dead).catch((error) => options.log(`jco serve failed to restart: ${(error as Error).message}`));
  };
  await launch();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const log = (status: number, bytes: number, outcome: Outcome, reason?: string) => {
      const response = { status, headers: [], body: { length: bytes } } as unknown as HttpResponse;
      const runUs = Math.round((performance.now() - started) * 1000);
      options.log(accessLogLine(req.method ?? 'GET', req.url ?? '/', { response, outcome, reason, timings: { instantiateUs: 0, runUs } }, performance.now() - started));
    };
    const failure = (status: number, outcome: Outcome, reason: string) => {
      const response = errorResponse(status);
      if (!res.headersSent) sendHttpResponse(res, response);
      else res.destroy();
      log(status, response.body.length, outcome, reason);
    };

    let url: URL;
    try {
      url = requestUrl(req);
    } catch (error) {
      req.resume();
      if (error instanceof BadRequestError) return failure(400, 'bad-request', `bad request: ${error.message}`);
      throw error;
    }
    if (closed) return failure(503, 'busy', 'the emulator is shutting down');
    let jco: JcoServeProcess;
    try {
      jco = await current;
    } catch (error) {
      return failure(503, 'busy', `jco serve is not running: ${(error as Error).message}`);
    }

    const headers: string[] = [];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      if (!HOP_BY_HOP.has(req.rawHeaders[i].toLowerCase())) headers.push(req.rawHeaders[i], req.rawHeaders[i + 1]);
    }
    // The validated host (the request line's authority for an absolute-form target).
    headers.push('host', url.host);
    let timedOut = false;
    let upstream: http.ClientRequest | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      upstream?.destroy();
      // A runaway loop holds jco's worker (it has no timeout of its own): start afresh.
      restart(jco);
    }, options.timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        upstream = http.request({ host: '127.0.0.1', port: jco.port, method: req.method, path: url.pathname + url.search, headers, agent }, (up) => {
          const status = up.statusCode ?? 502;
          const out: string[] = [];
          for (let i = 0; i < up.rawHeaders.length; i += 2) {
            const name = up.rawHeaders[i].toLowerCase();
            if (!HOP_BY_HOP.has(name) && name !== 'date' && name !== 'content-length') out.push(name, up.rawHeaders[i + 1]);
          }
          if (status === 502 && out.length === 0) {
            // jco's own failure page (the bridge's 502 always has a content-type): a trap.
            const chunks: Buffer[] = [];
            up.on('data', (c: Buffer) => chunks.push(c));
            up.on('end', () => {
              const body = Buffer.concat(chunks).toString();
              if (body === JCO_FAILURE_BODY) failure(500, 'trap', 'the function trapped (jco serve\'s error is in the log above)');
              else {
                sendHttpResponse(res, { status, headers: [], body: Buffer.from(body) });
                log(status, body.length, 'malformed');
              }
              resolve();
            });
            up.on('error', (e) => reject(new HostGone(e.message)));
            return;
          }
          res.writeHead(status, out);
          let bytes = 0;
          up.on('data', (c: Buffer) => {
            bytes += c.length;
          });
          up.pipe(res);
          up.on('end', () => {
            const outcome: Outcome = status === 502 ? 'malformed' : status >= 500 ? 'exit' : 'ok';
            log(status, bytes, outcome, outcome === 'ok' ? undefined : 'the function failed (its reason is in the log above)');
            resolve();
          });
          up.on('error', (e) => reject(new HostGone(e.message)));
          up.on('aborted', () => reject(new HostGone('the response ended early')));
        });
        upstream.on('error', (e) => reject(new HostGone(e.message)));
        req.pipe(upstream);
      });
    } catch (error) {
      if (timedOut) return failure(504, 'timeout', `the function ran longer than its timeout (${options.timeoutMs} ms); jco serve was restarted`);
      if (error instanceof HostGone) {
        if (res.headersSent) {
          res.destroy();
          return log(res.statusCode, 0, 'trap', `the response ended early: ${error.message}`);
        }
        return failure(503, 'busy', `jco serve stopped during the request (${error.message})`);
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
    throw error;
  }

  return {
    url,
    get starts() {
      return starts;
    },
    hostPid: async () => (await current).pid,
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
    },
  };
}
