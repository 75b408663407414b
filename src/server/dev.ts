/**
 * The `wfn dev` HTTP server: serves whichever function was swapped in last, or, after a
 * failed build, the build error as a 500 page (never a crash). Building and watching are
 * the dev loop's (src/project/dev-loop.ts); this file only serves.
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
import type { FunctionContext, Limits } from '../runtime/types.js';

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
  /** Answers every request with this build error until the next load. */
  showBuildError(message: string): void;
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024 * 1024;

type State = { fn: LoadedFunction } | { buildError: string };

function buildErrorPage(message: string): Uint8Array {
  const escaped = message.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
  return new TextEncoder().encode(
    `<!doctype html><meta charset="utf-8"><title>wfn: build failed</title><body style="font-family:sans-serif"><h1>Build failed</h1><pre style="white-space:pre-wrap">${escaped}</pre><p>Fix the error and save: wfn dev rebuilds.</p>`,
  );
}

export async function startDevHttpServer(options: DevServerOptions): Promise<DevHttpServer> {
  let state: State = { buildError: 'not built yet' };
  const pool = new WorkerPool();

  const server: Server = createHttpServer(async (req, res) => {
    const started = performance.now();
    const current = state;
    try {
      if ('buildError' in current) {
        const response = { status: 500, headers: [['content-type', 'text/html; charset=utf-8']] as [string, string][], body: buildErrorPage(current.buildError) };
        sendHttpResponse(res, response);
        options.log(`${req.method} ${req.url} 500 build failed`);
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
      state = { fn: loaded }; // atomic swap: in-flight requests keep the module they started with
      if (previous && previous.key !== loaded.key) pool.forget(previous.key);
    },
    showBuildError(message) {
      state = { buildError: message };
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
