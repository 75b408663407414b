/**
 * `wfn serve`: the self-hosted platform. `/<name>/...` runs function <name> (SCRIPT_NAME
 * `/<name>`, PATH_INFO the rest) in a fresh instance on the worker pool; `/_wfn/` is the
 * admin API. Functions live in a store (folder or S3 bucket) and survive restarts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Limits } from '../../config/types.js';
import { errorResponse } from '../../runtime/cgi.js';
import { sha256 } from '../../runtime/node/load.js';
import { WorkerPool } from '../../runtime/node/pool.js';
import { BodyTooLargeError, sendHttpResponse, toHttpRequest } from '../../http/node-http.js';
import { handleAdmin } from './admin.js';
import { makeTokenCheck } from './auth.js';
import { checkName, NAME_PATTERN, parseFunctionConfig, parseSecrets } from './config.js';
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
  /** Worker threads (default: the cores, at least 2). */
  workers?: number;
  /** Requests of one function running at once, when its config does not say (default: workers - 1, so one worker is always left for the others). */
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
  /** Deploys in-process, as the admin PUT does (used by the emulator). */
  deploy(name: string, bytes: Uint8Array, config?: unknown): Promise<Committed>;
  /** Requests being answered right now. */
  inFlight(): number;
  /** Graceful: stop accepting, finish in-flight requests (bounded), stop the workers. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY = 64 * 1024 * 1024;
export const DEFAULT_QUEUE = 64;
export const S3_POLL_MS = 2000;

const RETRY_AFTER_S = '1';

export async function startServe(options: ServeOptions): Promise<ServeServer> {
  const log = options.log;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const workers = options.workers ?? Math.max(2, availableParallelism());
  const store = options.store;
  await store.init();

  const pool = new WorkerPool(workers);
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
    authorized,
    maxBodyBytes,
    defaultLimits: options.defaultLimits,
    storeKind: store.kind,
    draining: () => draining,
    inFlight: inFlightByFunction,
  };

  async function runFunction(req: IncomingMessage, res: ServerResponse, name: string, started: number): Promise<void> {
    const fn = registry.get(name);
    const plain = (status: number, reason: string, headers: [string, string][] = []) => {
      const response = errorResponse(status);
      sendHttpResponse(res, response, headers);
      log.access({ function: fn ? name : undefined, method: req.method ?? 'GET', path: req.url ?? '/', remote: req.socket.remoteAddress, totalMs: performance.now() - started, status, bytes: response.body.length, reason });
      return response;
    };
    if (!fn) {
      plain(404, 'no such function');
      return;
    }
    const reject = () => {
      plain(503, `saturated: ${fn.limiter.active} running, ${fn.limiter.waiting} waiting`, [['retry-after', RETRY_AFTER_S]]);
      metrics.request(name, 503, 'saturated', (performance.now() - started) / 1000);
    };
    if (fn.limiter.saturated) return reject();
    let request;
    try {
      request = await toHttpRequest(req, maxBodyBytes);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      plain(413, `request body over ${maxBodyBytes} bytes`, [['connection', 'close']]);
      metrics.request(name, 413, 'ok', (performance.now() - started) / 1000);
      return;
    }
    const slot = fn.limiter.acquire();
    if (!slot) return reject();
    const release = await slot;
    let result;
    try {
      result = await pool.invoke(fn.loaded, request);
    } finally {
      release();
    }
    sendHttpResponse(res, result.response);
    const totalMs = performance.now() - started;
    if (result.stderr.length > 0) log.functionStderr(name, new TextDecoder().decode(result.stderr));
    metrics.request(name, result.response.status, result.outcome, totalMs / 1000, result.timings.instantiateUs);
    log.access({ function: name, method: request.method, path: req.url ?? '/', remote: request.remoteAddr, totalMs, result });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    active++;
    res.once('close', () => {
      active--;
      if (active === 0) drained?.();
    });
    // While shutting down, answer what is already on open connections, then close them.
    if (draining) res.setHeader('connection', 'close');
    try {
      const url = new URL(req.url ?? '/', 'http://wfn.invalid');
      const pathname = url.pathname;
      if (pathname === '/_wfn' || pathname.startsWith('/_wfn/')) {
        const answer = await handleAdmin(req, res, pathname, url.searchParams, adminContext);
        metrics.adminRequest(answer.route, answer.status);
        log.access({ function: '_wfn', method: req.method ?? 'GET', path: pathname, remote: req.socket.remoteAddress, totalMs: performance.now() - started, status: answer.status, bytes: answer.bytes, reason: answer.reason });
        return;
      }
      const name = pathname.split('/')[1] ?? '';
      await runFunction(req, res, NAME_PATTERN.test(name) ? name : '', started);
    } catch (error) {
      log.error(`${req.method} ${req.url}: ${(error as Error).stack ?? error}`);
      if (!res.headersSent) sendHttpResponse(res, errorResponse(500));
      else res.destroy();
    }
  }

  const server: Server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

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
    port: address.port,
    pool,
    registry,
    repository,
    async deploy(name, bytes, rawConfig) {
      checkName(name);
      const config = parseFunctionConfig(rawConfig, options.defaultLimits);
      const secrets = parseSecrets(rawConfig);
      const loaded = await compileVersion(name, bytes, 'new', config, secrets);
      const digest = sha256(bytes);
      const committed = await repository.deploy(name, bytes, digest, config, secrets);
      await registry.refresh(name, { sha256: digest, config: committed.entry.config, loaded });
      return committed;
    },
    inFlight: () => active,
    close,
  };
}
