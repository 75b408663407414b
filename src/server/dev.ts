/**
 * The `wfn dev` HTTP server: serves whichever function was swapped in last; a failed build
 * leaves it in service. Only when there is no good build yet does it answer with the build
 * error (a 500 as an HTML page, JSON or plain text, as the client asks; 503 while the first
 * build runs), never a crash. Building and watching are the dev loop's
 * (src/project/dev-loop.ts); this file only serves.
 */
import type { Server } from 'node:http';
import { accessLogLine } from '../http/access-log.js';
import { listen } from '../http/listen.js';
import { BadRequestError, BodyTooLargeError, ClientAbortError, createHttpServer, requestUrl, sendHttpResponse, toHttpRequest } from '../http/node-http.js';
import { cgiRequestProblem, errorResponse } from '../runtime/cgi.js';
import { loadFunction } from '../runtime/node/load.js';
import type { OutboundSettings } from '../runtime/outbound/abi.js';
import type { KvHosting } from '../runtime/node/pool.js';
import { WorkerPool, type LoadedFunction } from '../runtime/node/pool.js';
import type { FunctionContext, HttpResponse, Limits } from '../runtime/types.js';

export interface DevServerOptions {
  host: string;
  port: number;
  /** Request log lines. */
  log(line: string): void;
  /** Output the function writes to stderr. */
  progress(message: string): void;
}

export interface DevHttpServer {
  url: string;
  /** Loads the .wasm and serves it from now on; in-flight requests keep the module they started with. */
  load(wasmPath: string, limits: Limits, fn: FunctionContext, outbound?: OutboundSettings, kv?: KvHosting): Promise<void>;
  /**
   * A build failed: the last good build (if any) stays in service; without one, every request
   * is answered with this error until the next load. Returns the build still served.
   */
  showBuildError(message: string): ServedBuild | undefined;
  close(): Promise<void>;
}

/** The build in service: which file, loaded when. */
export interface ServedBuild {
  wasmPath: string;
  loadedAt: Date;
}

const MAX_BODY = 64 * 1024 * 1024;
const FIX_HINT = 'Fix the error and save: wfn dev rebuilds.';

type State = { fn: LoadedFunction; served: ServedBuild } | { buildError: string } | { building: true };

/** The build error (or "still building") in the form the client asked for: HTML for a browser, JSON for a JSON client, else text. */
export function devErrorResponse(status: 500 | 503, message: string, hint: string, accept: string | undefined): HttpResponse {
  const headers: [string, string][] = [['cache-control', 'no-store']];
  if (status === 503) headers.push(['retry-after', '1']);
  const wants = (type: RegExp) => type.test(accept ?? '');
  let body: string;
  if (wants(/\btext\/html\b/i)) {
    const escaped = (text: string) => text.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
    const title = status === 503 ? 'Building' : 'Build failed';
    body = `<!doctype html><meta charset="utf-8"><title>wfn: ${title.toLowerCase()}</title><body style="font-family:sans-serif"><h1>${title}</h1><pre style="white-space:pre-wrap">${escaped(message)}</pre><p>${escaped(hint)}</p>`;
    headers.unshift(['content-type', 'text/html; charset=utf-8']);
  } else if (wants(/\bjson\b/i)) {
    body = JSON.stringify({ error: { message, hint } });
    headers.unshift(['content-type', 'application/json']);
  } else {
    body = `${message}\n\n${hint}\n`;
    headers.unshift(['content-type', 'text/plain; charset=utf-8']);
  }
  return { status, headers, body: new TextEncoder().encode(body) };
}

export async function startDevHttpServer(options: DevServerOptions): Promise<DevHttpServer> {
  let state: State = { building: true };
  const pool = new WorkerPool();

  const server: Server = createHttpServer(async (req, res) => {
    const started = performance.now();
    const current = state;
    try {
      if (!('fn' in current)) {
        const failed = 'buildError' in current;
        const response = failed
          ? devErrorResponse(500, `build failed:\n${current.buildError}`, FIX_HINT, req.headers.accept)
          : devErrorResponse(503, 'the first build is still running', 'Retry in a moment: wfn dev serves the function as soon as it is built.', req.headers.accept);
        sendHttpResponse(res, response);
        options.log(`${req.method} ${req.url} ${response.status} ${failed ? 'build failed, no good build to serve' : 'still building'}`);
        return;
      }
      const url = requestUrl(req);
      const problem = cgiRequestProblem(url.pathname, url.search);
      if (problem) throw new BadRequestError(problem);
      const request = await toHttpRequest(req, MAX_BODY, url);
      // A client that leaves has its run stopped, as on wfn serve.
      const gone = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) gone.abort();
      });
      const result = await pool.invoke(current.fn, request, gone.signal);
      if (result.outcome !== 'abandoned') sendHttpResponse(res, result.response);
      if (result.stderr.length > 0) options.progress(new TextDecoder().decode(result.stderr).trimEnd());
      options.log(accessLogLine(request.method, req.url ?? '/', result, performance.now() - started));
    } catch (error) {
      if (error instanceof ClientAbortError) return options.log(`${req.method} ${req.url} 499 ${error.message}`);
      const status = error instanceof BodyTooLargeError ? 413 : error instanceof BadRequestError ? 400 : 500;
      if (!res.headersSent) sendHttpResponse(res, errorResponse(status), [['connection', 'close']]);
      options.log(`${req.method} ${req.url} ${status} ${status === 400 ? 'bad request: ' : ''}${(error as Error).message}`);
    }
  });

  let url: string;
  try {
    url = `${await listen(server, options.port, options.host)}/`;
  } catch (error) {
    await pool.close();
    throw error;
  }

  return {
    url,
    async load(wasmPath, limits, fn, outbound, kv) {
      const loaded = await loadFunction(wasmPath, { ...limits, fn, outbound, kv });
      const previous = 'fn' in state ? state.fn : undefined;
      state = { fn: loaded, served: { wasmPath, loadedAt: new Date() } }; // atomic swap: in-flight requests keep the module they started with
      if (previous && previous.key !== loaded.key) pool.forget(previous.key);
    },
    showBuildError(message) {
      if ('fn' in state) return state.served;
      state = { buildError: message };
      return undefined;
    },
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}
