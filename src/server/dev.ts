/**
 * `wfn dev`: a local HTTP server for one function. In a project it builds, watches the
 * sources, rebuilds and swaps the module atomically; a build error is shown in the terminal
 * and as a 500 page, never a crash.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { missingSecretsMessage, secretValues } from '../config/secrets.js';
import { DEFAULT_LIMITS, type ProjectConfig } from '../config/types.js';
import { loadFunction } from '../runtime/node/load.js';
import type { OutboundSettings } from '../runtime/outbound/abi.js';
import { WorkerPool, type LoadedFunction } from '../runtime/node/pool.js';
import { cgiRequestProblem, errorResponse } from '../runtime/cgi.js';
import { accessLogLine } from '../http/access-log.js';
import { BadRequestError, BodyTooLargeError, ClientAbortError, createHttpServer, requestUrl, sendHttpResponse, toHttpRequest } from '../http/node-http.js';
import { watchProject } from './watch.js';

export interface DevOptions {
  host: string;
  port: number;
  /** Serve this project (rebuild on change)... */
  projectDir?: string;
  /** ...or this .wasm file as it is. */
  wasmPath?: string;
  memoryMiB?: number;
  timeoutMs?: number;
  /** For a .wasm: its variables, route and [outbound] (a project takes them from wfn.toml; none = no calls). */
  env?: Record<string, string>;
  route?: string;
  outbound?: OutboundSettings;
  watch?: boolean;
  /** Request log lines. */
  log(line: string): void;
  /** Build progress and errors. */
  progress(message: string): void;
}

export interface DevServer {
  url: string;
  /** Resolves when the rebuild triggered by the latest change has finished. */
  idle(): Promise<void>;
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

export async function startDevServer(options: DevOptions): Promise<DevServer> {
  let config: ProjectConfig | undefined;
  let state: State;
  let pending: Promise<void> = Promise.resolve();

  const limits = () => ({
    memoryMiB: options.memoryMiB ?? config?.limits.memoryMiB ?? DEFAULT_LIMITS.memoryMiB,
    timeoutMs: options.timeoutMs ?? config?.limits.timeoutMs ?? DEFAULT_LIMITS.timeoutMs,
  });

  const rebuild = async (): Promise<void> => {
    const started = performance.now();
    try {
      config = await loadConfig(options.projectDir!);
      const { buildProject } = await import('../pipeline/build.js');
      const result = await buildProject(config, { log: (m) => options.progress(m) });
      const secrets = secretValues(config.secrets, process.env);
      if (secrets.missing.length > 0) options.progress(`warning: ${missingSecretsMessage(secrets.missing)}`);
      const env = { ...config.env, ...secrets.values };
      const fn = await loadFunction(result.artifact, { ...limits(), fn: { route: config.route, env }, outbound: config.outbound });
      const previous = 'fn' in state ? state.fn : undefined;
      state = { fn }; // atomic swap: in-flight requests keep the module they started with
      if (previous && previous.key !== fn.key) pool.forget(previous.key);
      options.progress(result.cached ? `up to date (${path.relative(process.cwd(), result.artifact)})` : `built ${path.relative(process.cwd(), result.artifact)} (${result.size} bytes) in ${Math.round(performance.now() - started)} ms`);
    } catch (error) {
      state = { buildError: (error as Error).message };
      options.progress(`build failed:\n${(error as Error).message}`);
    }
  };

  let pool: WorkerPool;
  if (options.wasmPath) {
    // A module that does not conform is refused up front (a UserError), not served as 500s.
    state = { fn: await loadFunction(options.wasmPath, { ...limits(), fn: { route: options.route ?? '/', env: options.env ?? {} }, outbound: options.outbound }) };
    pool = new WorkerPool();
  } else {
    pool = new WorkerPool();
    state = { buildError: 'not built yet' };
    await rebuild();
  }

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

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}/`;

  let watcher: { close(): Promise<void> } | undefined;
  if (options.projectDir && options.watch !== false) {
    watcher = await watchProject(options.projectDir, () => {
      options.progress('change detected, rebuilding');
      pending = pending.then(rebuild);
    });
  }

  return {
    url,
    idle: () => pending,
    async close() {
      await watcher?.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await pool.close();
    },
  };
}
