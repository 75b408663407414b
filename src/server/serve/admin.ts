/**
 * The admin API under /_wfn/ (docs/self-hosted.md): deploy, list, get, delete, roll back,
 * logs, health, metrics. Every route but /_wfn/health needs `Authorization: Bearer <token>`;
 * a refused request changes nothing.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Limits } from '../../config/types.js';
import { sha256 } from '../../runtime/node/load.js';
import type { WorkerPool } from '../../runtime/node/pool.js';
import { UserError } from '../../util/errors.js';
import { BodyBudgetError, type BodyBudget } from '../../http/body-budget.js';
import { BodyTooLargeError, ClientAbortError, readBody } from '../../http/node-http.js';
import { checkName, ConfigError, parseFunctionConfig, parseSecrets } from './config.js';
import type { FunctionLogs } from './function-logs.js';
import type { ServeLog } from './log.js';
import type { ServeMetrics } from './metrics.js';
import { parseMultipart } from './multipart.js';
import { compileVersion, type FunctionRegistry } from './registry.js';
import { liveEntry, RepositoryError, type FunctionRepository } from './repository.js';
import type { FunctionRecord } from './types.js';

export interface AdminContext {
  repository: FunctionRepository;
  registry: FunctionRegistry;
  pool: WorkerPool;
  metrics: ServeMetrics;
  log: ServeLog;
  /** The functions' recent request and stderr lines (GET /_wfn/functions/:name/logs). */
  functionLogs: FunctionLogs;
  authorized(header: string | undefined): boolean;
  /** Largest accepted .wasm, bytes. */
  maxBodyBytes: number;
  /** Bounds the bytes of upload bodies held in memory (shared with function requests). */
  bodyBudget: BodyBudget;
  defaultLimits: Limits;
  storeKind: string;
  draining(): boolean;
  inFlight(): Map<string, number>;
}

/** What the access log and metrics need to know about an answered admin request. */
export interface AdminAnswer {
  route: string;
  status: number;
  bytes: number;
  reason?: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: [string, string][] = [],
  ) {
    super(message);
  }
}

/** Room for the multipart framing and the config part on top of the module itself. */
export const UPLOAD_ENVELOPE_BYTES = 1024 * 1024;

function send(res: ServerResponse, status: number, body: string, contentType: string, headers: [string, string][] = []): number {
  const bytes = Buffer.from(body);
  const raw: string[] = ['content-type', contentType, 'content-length', String(bytes.length), 'cache-control', 'no-store'];
  for (const [k, v] of headers) raw.push(k, v);
  res.writeHead(status, raw);
  res.end(bytes);
  return bytes.length;
}

const sendJson = (res: ServerResponse, status: number, value: unknown, headers: [string, string][] = []) =>
  send(res, status, JSON.stringify(value, null, 2) + '\n', 'application/json', headers);

function describeFunction(record: FunctionRecord, serving: number | undefined) {
  const live = liveEntry(record);
  return {
    name: record.name,
    url: `/${record.name}/`,
    current: record.current,
    sha256: live.sha256,
    manifest: { name: record.name, ...live },
    versions: record.versions,
    updatedAt: record.updatedAt,
    /** The version this replica answers with right now (S3 replicas catch up within the poll interval). */
    serving: serving ?? null,
  };
}

/** The .wasm and its config from a PUT: a bare `application/wasm` body, or multipart parts `wasm` and `config`. */
async function readUpload(req: IncomingMessage, ctx: AdminContext): Promise<{ bytes: Uint8Array; config: unknown }> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const declared = Number(req.headers['content-length'] ?? NaN);
  const multipart = type.startsWith('multipart/form-data');
  const budget = ctx.bodyBudget;
  const limit = Math.min(ctx.maxBodyBytes + (multipart ? UPLOAD_ENVELOPE_BYTES : 0), budget.totalBytes, budget.perConnectionBytes);
  const tooLarge = () => new HttpError(413, `upload over the size limit of ${Math.min(ctx.maxBodyBytes, limit)} bytes (wfn serve --max-body)`, [['connection', 'close']]);
  if (declared > limit) throw tooLarge();
  if (!multipart && !type.startsWith('application/wasm') && !type.startsWith('application/octet-stream')) {
    throw new HttpError(415, 'send the module as Content-Type: application/wasm, or as multipart/form-data with parts "wasm" and "config"');
  }
  let body: Uint8Array;
  const lease = budget.lease(req.socket);
  try {
    body = await readBody(req, limit, lease);
  } catch (error) {
    lease.release();
    if (error instanceof BodyTooLargeError) throw tooLarge();
    if (error instanceof BodyBudgetError) throw new HttpError(503, `shed: ${error.message}`, [['retry-after', '1'], ['connection', 'close']]);
    throw error;
  }
  // The upload is parsed and compiled next; memory it holds after that is the deploy's, not a body in flight.
  lease.release();
  if (!multipart) return { bytes: body, config: undefined };
  let parts;
  try {
    parts = parseMultipart(body, type);
  } catch (error) {
    throw new HttpError(400, `malformed multipart body: ${(error as Error).message}`);
  }
  const wasm = parts.find((p) => p.name === 'wasm');
  if (!wasm) throw new HttpError(400, 'the multipart body has no "wasm" part');
  const bytes = new Uint8Array(wasm.body.buffer, wasm.body.byteOffset, wasm.body.length);
  if (bytes.length > ctx.maxBodyBytes) throw tooLarge();
  const configPart = parts.find((p) => p.name === 'config');
  let config: unknown;
  if (configPart) {
    try {
      config = JSON.parse(configPart.body.toString('utf8'));
    } catch (error) {
      throw new HttpError(400, `the "config" part is not JSON: ${(error as Error).message}`);
    }
  }
  return { bytes, config };
}

async function putFunction(req: IncomingMessage, res: ServerResponse, name: string, ctx: AdminContext): Promise<number> {
  const upload = await readUpload(req, ctx);
  const config = parseFunctionConfig(upload.config, ctx.defaultLimits);
  const secrets = parseSecrets(upload.config);
  if (upload.bytes.length === 0) throw new HttpError(400, 'the upload is empty: send the .wasm as the body');
  let loaded;
  try {
    loaded = await compileVersion(name, upload.bytes, 'new', config, secrets, ctx.registry.kvBackend(name));
  } catch (error) {
    if (error instanceof UserError) throw new HttpError(400, error.hint ? `${error.message}\n${error.hint}` : error.message);
    throw error;
  }
  const digest = sha256(upload.bytes);
  const committed = await ctx.repository.deploy(name, upload.bytes, digest, config, secrets);
  await ctx.registry.refresh(name, { sha256: digest, config: committed.entry.config, loaded });
  ctx.metrics.deploy(committed.unchanged ? 'unchanged' : 'created');
  if (!committed.unchanged) ctx.log.info(`deployed ${name} version ${committed.entry.version} (${upload.bytes.length} bytes, sha256 ${digest.slice(0, 12)})`);
  return sendJson(res, committed.unchanged ? 200 : 201, {
    name,
    url: `/${name}/`,
    version: committed.entry.version,
    sha256: digest,
    size: upload.bytes.length,
    unchanged: committed.unchanged,
    config: committed.entry.config,
  });
}

/** A following reader that lets this many bytes pile up unread is cut off (memory stays bounded). */
export const LOG_STREAM_BUFFER_BYTES = 1024 * 1024;
/** An empty line this often keeps a quiet follow stream alive through proxies (readers skip empty lines). */
export const LOG_HEARTBEAT_MS = 15_000;

/** ?follow=1&since=<ISO date | ms since the epoch>. */
function logsQuery(query: URLSearchParams): { follow: boolean; since?: Date } {
  const f = query.get('follow');
  if (f !== null && !['', '0', '1', 'true', 'false'].includes(f)) throw new HttpError(400, 'follow must be 1 or 0');
  const raw = query.get('since');
  let since: Date | undefined;
  if (raw !== null) {
    since = new Date(/^\d+$/.test(raw) ? Number(raw) : raw.length <= 40 ? Date.parse(raw) : NaN);
    if (Number.isNaN(since.getTime())) throw new HttpError(400, 'since must be an ISO 8601 date-time or milliseconds since the epoch');
  }
  return { follow: f === '' || f === '1' || f === 'true', since };
}

/**
 * NDJSON of the function's kept lines (since `since`), then with `follow` its new lines until the
 * client leaves, the function is deleted or the server closes. Resolves with the bytes sent.
 */
function streamLogs(req: IncomingMessage, res: ServerResponse, logs: FunctionLogs, name: string, follow: boolean, since: Date | undefined): Promise<number> {
  let bytes = 0;
  const write = (text: string) => {
    bytes += Buffer.byteLength(text);
    res.write(text);
  };
  res.writeHead(200, ['content-type', 'application/x-ndjson; charset=utf-8', 'cache-control', 'no-store', 'x-content-type-options', 'nosniff']);
  // The reader learns at once that it is following (node holds the head back until the first body byte).
  res.flushHeaders();
  for (const line of logs.recent(name, since)) write(`${JSON.stringify(line)}\n`);
  if (!follow) {
    res.end();
    return Promise.resolve(bytes);
  }
  return new Promise((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      unfollow();
      clearInterval(heartbeat);
      if (!res.writableEnded) res.end();
      resolve(bytes);
    };
    const unfollow = logs.follow(name, {
      line(line) {
        // A reader that does not keep up is cut off rather than buffered without bound.
        if (res.writableLength > LOG_STREAM_BUFFER_BYTES) {
          res.destroy();
          return finish();
        }
        write(`${JSON.stringify(line)}\n`);
      },
      end: finish,
    });
    const heartbeat = setInterval(() => write('\n'), LOG_HEARTBEAT_MS);
    heartbeat.unref();
    res.once('close', finish);
    // Gone while the function was looked up: its 'close' has already passed.
    if (res.destroyed || req.socket.destroyed) finish();
  });
}

/** Answers one /_wfn/ request; never throws. */
export async function handleAdmin(req: IncomingMessage, res: ServerResponse, pathname: string, query: URLSearchParams, ctx: AdminContext): Promise<AdminAnswer> {
  const method = req.method ?? 'GET';
  const parts = pathname.split('/').filter(Boolean).slice(1); // drop "_wfn"
  // A fixed set of route labels: request paths must not grow the metrics without bound.
  const route =
    parts[0] === 'functions'
      ? parts.length === 1
        ? 'functions'
        : parts.length === 2
          ? 'functions/:name'
          : parts.length === 3 && parts[2] === 'rollback'
            ? 'functions/:name/rollback'
            : parts.length === 3 && parts[2] === 'logs'
              ? 'functions/:name/logs'
              : 'other'
      : parts.length === 1 && (parts[0] === 'health' || parts[0] === 'metrics')
        ? parts[0]
        : 'other';
  const allow = (methods: string[]) => {
    if (!methods.includes(method)) throw new HttpError(405, `${method} is not allowed here (allowed: ${methods.join(', ')})`, [['allow', methods.join(', ')]]);
  };
  let status = 500;
  let bytes = 0;
  let reason: string | undefined;
  try {
    if (route === 'health') {
      allow(['GET', 'HEAD']);
      const draining = ctx.draining();
      status = draining ? 503 : 200;
      bytes = sendJson(res, status, { status: draining ? 'draining' : 'ok', functions: ctx.registry.size, store: ctx.storeKind });
      return { route, status, bytes };
    }
    if (!ctx.authorized(req.headers.authorization)) {
      throw new HttpError(401, 'missing or wrong admin token (send Authorization: Bearer <token>)', [['www-authenticate', 'Bearer realm="wfn"']]);
    }
    if (route === 'metrics') {
      allow(['GET']);
      const text = ctx.metrics.render({
        functions: ctx.registry.size,
        inFlight: ctx.inFlight(),
        poolSize: ctx.pool.size,
        poolBusy: ctx.pool.busy,
        poolQueued: ctx.pool.queued,
        workerRestarts: ctx.pool.replaced,
        poolWorkers: ctx.pool.workers,
        bodyBytes: ctx.bodyBudget.inUse,
        bodyBytesLimit: ctx.bodyBudget.totalBytes,
      });
      status = 200;
      bytes = send(res, 200, text, 'text/plain; version=0.0.4; charset=utf-8');
      return { route, status, bytes };
    }
    if (route === 'functions') {
      allow(['GET']);
      const functions = (await ctx.repository.list()).map((record) => {
        const live = liveEntry(record);
        return { name: record.name, url: `/${record.name}/`, version: live.version, sha256: live.sha256, size: live.size, deployedAt: live.deployedAt, versions: record.versions.length };
      });
      status = 200;
      bytes = sendJson(res, 200, { functions });
      return { route, status, bytes };
    }
    if (route === 'functions/:name/logs') {
      const name = parts[1];
      checkName(name);
      allow(['GET']);
      const { follow, since } = logsQuery(query);
      if (!(await ctx.repository.get(name))) throw new HttpError(404, `no function named "${name}"`);
      status = 200;
      bytes = await streamLogs(req, res, ctx.functionLogs, name, follow, since);
      return { route, status, bytes };
    }
    if (route === 'functions/:name' || route === 'functions/:name/rollback') {
      const name = parts[1];
      checkName(name);
      if (route === 'functions/:name/rollback') {
        allow(['POST']);
        const v = query.get('version');
        if (v !== null && !/^\d+$/.test(v)) throw new HttpError(400, 'version must be a version number');
        const from = (await ctx.repository.get(name))?.record.current;
        const committed = await ctx.repository.rollback(name, v === null ? undefined : Number(v));
        await ctx.registry.refresh(name);
        if (!committed.unchanged) ctx.log.info(`rolled ${name} back from version ${from} to version ${committed.entry.version}`);
        status = 200;
        bytes = sendJson(res, 200, { name, url: `/${name}/`, version: committed.entry.version, sha256: committed.entry.sha256, from: from ?? null, unchanged: committed.unchanged });
        return { route, status, bytes };
      }
      allow(['GET', 'PUT', 'DELETE']);
      if (method === 'PUT') {
        bytes = await putFunction(req, res, name, ctx);
        status = res.statusCode;
        return { route, status, bytes };
      }
      if (method === 'DELETE') {
        if (!(await ctx.repository.remove(name))) throw new HttpError(404, `no function named "${name}"`);
        await ctx.registry.refresh(name);
        ctx.functionLogs.drop(name);
        ctx.log.info(`deleted ${name}`);
        status = 204;
        res.writeHead(204).end();
        return { route, status, bytes };
      }
      const got = await ctx.repository.get(name);
      if (!got) throw new HttpError(404, `no function named "${name}"`);
      status = 200;
      bytes = sendJson(res, 200, describeFunction(got.record, ctx.registry.get(name)?.entry.version));
      return { route, status, bytes };
    }
    throw new HttpError(404, `no admin route ${pathname}`);
  } catch (error) {
    let headers: [string, string][] = [];
    if (error instanceof ClientAbortError) {
      // Gone mid-upload: nothing to answer, one access line.
      return { route, status: 499, bytes: 0, reason: error.message };
    }
    if (error instanceof HttpError) {
      status = error.status;
      headers = error.headers;
    } else if (error instanceof ConfigError) status = 400;
    else if (error instanceof RepositoryError) status = error.status;
    else {
      status = 500;
      ctx.log.error(`admin ${method} ${pathname}: ${(error as Error).stack ?? error}`);
    }
    if (route === 'functions/:name' && method === 'PUT') ctx.metrics.deploy('rejected');
    reason = status === 500 ? 'internal error' : (error as Error).message;
    if (res.headersSent) {
      res.destroy();
      return { route, status, bytes, reason };
    }
    bytes = sendJson(res, status, { error: reason }, headers);
    return { route, status, bytes, reason };
  }
}
