/**
 * `wfn serve`: the self-hosted platform. `/<name>/...` runs function <name> (SCRIPT_NAME
 * `/<name>`, PATH_INFO the rest) in a fresh instance on the worker pool; `/_wfn/` is the
 * admin API. Functions live in a store (folder or S3 bucket) and survive restarts.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Limits } from '../../config/types.js';
import { cgiRequestProblem, errorResponse } from '../../runtime/cgi.js';
import { sha256 } from '../../runtime/node/load.js';
import { WorkerPool } from '../../runtime/node/pool.js';
import { BodyBudget, BodyBudgetError } from '../../http/body-budget.js';
import { listen } from '../../http/listen.js';
import { BadRequestError, BodyTooLargeError, ClientAbortError, createHttpServer, requestUrl, sendHttpResponse, toHttpRequest } from '../../http/node-http.js';
import { handleAdmin, UPLOAD_ENVELOPE_BYTES } from './admin.js';
import { makeTokenCheck } from './auth.js';
import { checkName, NAME_PATTERN, parseFunctionConfig, parseSecrets } from './config.js';
import { capturingLog, FunctionLogs } from './function-logs.js';
import type { ServeLog } from './log.js';
import { ServeMetrics } from './metrics.js';
import { compileVersion, FunctionRegistry } from './registry.js';
import { FunctionRepository, type Committed } from './repository.js';
import type { StoreBackend } from './types.js';

export interface ServeOptions {
  host: string;
  /** 0 = any free port. */
  port: number;
  store: StoreBackend;
  /** The admin token; undefined = no authentication (--insecure-no-auth). */
  token: string | undefined;
  /** Limits of a deploy that does not set its own. */
  defaultLimits: Limits;
  /** Largest .wasm upload and largest request body, bytes (default 64 MiB). */
  maxBodyBytes?: number;
  /** Bytes of request bodies held in memory at once, all requests together (default: 256 MiB, at least maxBodyBytes). */
  maxBodyInFlightBytes?: number;
  /** Bytes of request bodies held at once per connection (default: maxBodyBytes plus an upload's multipart envelope). */
  maxBodyPerConnectionBytes?: number;
  /** Worker threads (default: the cores, at least 2). */
  workers?: number;
  /** Requests of one function running at once, when its config does not say (default: workers - 1; the pool keeps fair shares between functions). */
  concurrency?: number;
  /** Requests of one function that may wait for a slot before 503 (default 64). */
  queue?: number;
  /** How often to look for other replicas' deploys, ms (default: 2000 for S3, never for the file store). */
  pollIntervalMs?: number;
  /** Longest wait for in-flight requests on close, ms (default 10000). */
  shutdownTimeoutMs?: number;
  log: ServeLog;
}

export interface ServeServer {
  /** Base URL, e.g. http://127.0.0.1:8080 (no trailing slash). */
  url: string;
  port: number;
  pool: WorkerPool;
  registry: FunctionRegistry;
  repository: FunctionRepository;
  /** The functions' recent log lines and their followers (the admin API's logs endpoint). */
  functionLogs: FunctionLogs;
  /** Deploys in-process, as the admin PUT does (used by the emulator). */
  deploy(name: string, bytes: Uint8Array, config?: unknown): Promise<Committed>;
  /** Requests being answered right now. */
  inFlight(): number;
  /** Graceful: stop accepting, finish in-flight requests (bounded), stop the workers. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY = 64 * 1024 * 1024;
export const DEFAULT_MAX_BODY_IN_FLIGHT = 256 * 1024 * 1024;
export const DEFAULT_QUEUE = 64;
export const S3_POLL_MS = 2000;

const RETRY_AFTER_S = '1';

export async function startServe(options: ServeOptions): Promise<ServeServer> {
  // Each function's request and stderr lines are also kept for the admin API's logs endpoint.
  const functionLogs = new FunctionLogs();
  const log = capturingLog(options.log, functionLogs);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const workers = options.workers ?? Math.max(2, availableParallelism());
  const store = options.store;
  await store.init((message) => log.warn(message));

  const bodyBudget = new BodyBudget(
    options.maxBodyInFlightBytes ?? Math.max(DEFAULT_MAX_BODY_IN_FLIGHT, maxBodyBytes),
    options.maxBodyPerConnectionBytes ?? maxBodyBytes + UPLOAD_ENVELOPE_BYTES,
  );
  // A body that could never fit the memory bounds is refused as too large (413), not shed (503).
  const maxRequestBody = Math.min(maxBodyBytes, bodyBudget.totalBytes, bodyBudget.perConnectionBytes);
  if (maxRequestBody < maxBodyBytes) {
    log.warn(`request bodies over ${maxRequestBody} bytes are refused (413): the bound on bodies in memory is below --max-body (${maxBodyBytes} bytes)`);
  }

  // Stores behind the network (S3) are called here, on the main thread, while the function's thread waits.
  const pool = new WorkerPool(workers, store.kv ? { kvRemote: (scope, request) => store.kv!(scope, request) } : {});
  const metrics = new ServeMetrics();
  const repository = new FunctionRepository(store, (m) => log.warn(m));
  const registry = new FunctionRegistry(store, pool, {
    defaultConcurrency: options.concurrency ?? Math.max(1, workers - 1),
    queue: options.queue ?? DEFAULT_QUEUE,
    log,
  });
  const removed = await repository.collectNow();
  if (removed > 0) log.info(`removed ${removed} unused module blob(s) from the store`);
  await registry.sync();

  let draining = false;
  let active = 0;
  let drained: (() => void) | undefined;
  const authorized = makeTokenCheck(options.token);

  const inFlightByFunction = () => new Map(registry.all().map((f) => [f.name, f.limiter.active + f.limiter.waiting]));

  const adminContext = {
    repository,
    registry,
    pool,
    metrics,
    log,
    functionLogs,
    authorized,
    maxBodyBytes,
    bodyBudget,
    defaultLimits: options.defaultLimits,
    storeKind: store.kind,
    draining: () => draining,
    inFlight: inFlightByFunction,
  };

  /** What every answer of one request logs: taken when it arrives (the socket may be gone by the end). */
  interface Arrival {
    method: string;
    path: string;
    remote: string | undefined;
    started: number;
  }

  /** A plain-text answer the server gives on its own (the function did not run). */
  function answerPlain(res: ServerResponse, at: Arrival, fn: string | undefined, status: number, reason: string, headers: [string, string][] = []): void {
    const response = errorResponse(status);
    if (!res.headersSent) sendHttpResponse(res, response, headers);
    log.access({ function: fn, method: at.method, path: at.path, remote: at.remote, totalMs: performance.now() - at.started, status, bytes: response.body.length, reason });
  }

  /** A refusal before the body is read closes the connection: node would otherwise read (and drop) all of it. */
  const closeIfUnread = (req: IncomingMessage): [string, string][] => (req.complete ? [] : [['connection', 'close']]);

  /** 400: the client's fault, counted apart from anything a function did. */
  function badRequest(req: IncomingMessage, res: ServerResponse, at: Arrival, fn: string | undefined, reason: string): void {
    metrics.badRequest();
    if (fn) metrics.request(fn, 400, 'bad-request', (performance.now() - at.started) / 1000);
    answerPlain(res, at, fn, 400, `bad request: ${reason}`, closeIfUnread(req));
  }

  /** The client left before its answer: one access line (499), nothing sent. */
  function abandoned(at: Arrival, fn: string, reason: string): void {
    const totalMs = performance.now() - at.started;
    metrics.request(fn, 499, 'abandoned', totalMs / 1000);
    log.access({ function: fn, method: at.method, path: at.path, remote: at.remote, totalMs, status: 499, bytes: 0, reason });
  }

  async function runFunction(req: IncomingMessage, res: ServerResponse, url: URL, name: string, at: Arrival): Promise<void> {
    const fn = registry.get(name);
    const seconds = () => (performance.now() - at.started) / 1000;
    const plain = (status: number, reason: string, headers: [string, string][] = []) => answerPlain(res, at, fn ? name : undefined, status, reason, headers);
    if (!fn) {
      plain(404, 'no such function', closeIfUnread(req));
      return;
    }
    // Refused before the body is read or a worker is taken.
    const problem = cgiRequestProblem(url.pathname, url.search);
    if (problem) return badRequest(req, res, at, name, problem);
    const reject = () => {
      plain(503, `saturated: ${fn.limiter.active} running, ${fn.limiter.waiting} waiting`, [['retry-after', RETRY_AFTER_S], ...closeIfUnread(req)]);
      metrics.request(name, 503, 'saturated', seconds());
    };
    if (fn.limiter.saturated) return reject();
    // From here the client may leave at any moment: its request is then dropped, or its run stopped.
    const gone = new AbortController();
    const lease = bodyBudget.lease(req.socket);
    res.once('close', () => {
      lease.release();
      if (!res.writableFinished) gone.abort();
    });
    let request;
    try {
      request = await toHttpRequest(req, maxRequestBody, url, lease);
    } catch (error) {
      if (error instanceof ClientAbortError) return abandoned(at, name, error.message);
      if (error instanceof BodyTooLargeError) {
        plain(413, `request body over ${maxRequestBody} bytes`, [['connection', 'close']]);
        metrics.request(name, 413, 'ok', seconds());
        return;
      }
      if (!(error instanceof BodyBudgetError)) throw error;
      lease.release();
      plain(503, `shed: ${error.message}`, [['retry-after', RETRY_AFTER_S], ['connection', 'close']]);
      metrics.request(name, 503, 'saturated', seconds());
      return;
    }
    const slot = fn.limiter.acquire(gone.signal);
    if (!slot) return reject();
    const release = await slot;
    if (!release) return abandoned(at, name, 'the client closed the connection before the run started');
    let result;
    try {
      result = await pool.invoke(fn.loaded, request, gone.signal, { key: name, max: fn.limiter.concurrency });
    } finally {
      release();
    }
    if (result.outcome !== 'abandoned') sendHttpResponse(res, result.response);
    const totalMs = performance.now() - at.started;
    if (result.stderr.length > 0) log.functionStderr(name, new TextDecoder().decode(result.stderr));
    if (result.outcome === 'bad-request') metrics.badRequest();
    metrics.request(name, result.response.status, result.outcome, totalMs / 1000, result.timings.instantiateUs);
    log.access({ function: name, method: at.method, path: at.path, remote: at.remote, totalMs, result });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at: Arrival = { method: req.method ?? 'GET', path: req.url ?? '/', remote: req.socket.remoteAddress, started: performance.now() };
    active++;
    res.once('close', () => {
      active--;
      if (active === 0) drained?.();
    });
    // While shutting down, answer what is already on open connections, then close them.
    if (draining) res.setHeader('connection', 'close');
    try {
      let url: URL;
      try {
        url = requestUrl(req);
      } catch (error) {
        if (!(error instanceof BadRequestError)) throw error;
        return badRequest(req, res, at, undefined, error.message);
      }
      const pathname = url.pathname;
      if (pathname === '/_wfn' || pathname.startsWith('/_wfn/')) {
        const answer = await handleAdmin(req, res, pathname, url.searchParams, adminContext);
        metrics.adminRequest(answer.route, answer.status);
        log.access({ function: '_wfn', method: at.method, path: pathname, remote: at.remote, totalMs: performance.now() - at.started, status: answer.status, bytes: answer.bytes, reason: answer.reason });
        return;
      }
      const name = pathname.split('/')[1] ?? '';
      await runFunction(req, res, url, NAME_PATTERN.test(name) ? name : '', at);
    } catch (error) {
      log.error(`${at.method} ${at.path}: ${(error as Error).stack ?? error}`);
      if (!res.headersSent) sendHttpResponse(res, errorResponse(500));
      else res.destroy();
    }
  }

  const server: Server = createHttpServer((req, res) => void handle(req, res));
  let url: string;
  try {
    url = await listen(server, options.port, options.host);
  } catch (error) {
    await pool.close();
    throw error;
  }

  // Replicas sharing a bucket pick up each other's deploys within one interval.
  const pollMs = options.pollIntervalMs ?? (store.kind === 's3' ? S3_POLL_MS : 0);
  let pollTimer: NodeJS.Timeout | undefined;
  let polling: Promise<void> = Promise.resolve();
  const schedulePoll = () => {
    if (pollMs <= 0 || draining) return;
    pollTimer = setTimeout(() => {
      polling = registry
        .sync()
        .catch((error) => log.warn(`polling the store failed: ${(error as Error).message}`))
        .finally(schedulePoll);
    }, pollMs);
    pollTimer.unref();
  };
  schedulePoll();

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      draining = true;
      clearTimeout(pollTimer);
      // Following log readers would otherwise hold the shutdown for its whole timeout.
      functionLogs.endAll();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (active > 0) {
        const idle = new Promise<void>((resolve) => (drained = resolve));
        const limit = new Promise<void>((resolve) => setTimeout(resolve, options.shutdownTimeoutMs ?? 10_000).unref());
        await Promise.race([idle, limit]);
        if (active > 0) log.warn(`shutdown timeout: closing ${active} unfinished request(s)`);
      }
      server.closeAllConnections();
      await stopped;
      await polling;
      await pool.close();
      store.close?.();
    })());

  return {
    url,
    port: (server.address() as AddressInfo).port,
    pool,
    registry,
    repository,
    functionLogs,
    async deploy(name, bytes, rawConfig) {
      checkName(name);
      const config = parseFunctionConfig(rawConfig, options.defaultLimits);
      const secrets = parseSecrets(rawConfig);
      const loaded = await compileVersion(name, bytes, 'new', config, secrets, registry.kvBackend(name));
      const digest = sha256(bytes);
      const committed = await repository.deploy(name, bytes, digest, config, secrets);
      await registry.refresh(name, { sha256: digest, config: committed.entry.config, loaded });
      return committed;
    },
    inFlight: () => active,
    close,
  };
}
