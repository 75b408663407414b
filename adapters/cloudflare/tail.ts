/**
 * `wfn logs --target cloudflare`: a Workers Tail, read the way `wrangler tail` reads one.
 *   POST   /accounts/{account}/workers/scripts/{name}/tails        {"filters": []} -> {id, url, expires_at}
 *   the url: a WebSocket, subprotocol `trace-v1`; the client sends {"debug": false} once open,
 *            then receives one JSON trace event per invocation
 *   DELETE /accounts/{account}/workers/scripts/{name}/tails/{id}   when done (abort, or the server closed)
 * Each trace event becomes one request line (method, path, status from `event.request` and
 * `event.response`, duration from `wallTime`, outcome from `outcome` and the shim's own
 * `wfn: <outcome>: <reason>` line) and one stderr line per console message (the shim logs the
 * function's stderr one line per console.error) and per uncaught exception.
 * A tail is live only: Cloudflare keeps no history behind it (Workers Logs does, when enabled).
 */
import WebSocket from 'ws';
import type { LogLine, LogsOptions } from '../../src/target/types.js';
import { UserError } from '../../src/util/errors.js';
import { call, credentialsFrom, isScriptNotFound, type CloudflareCredentials } from './api.js';

/** The subprotocol the tail's WebSocket accepts (as wrangler sends it). */
export const TRACE_VERSION = 'trace-v1';
/** A trace event larger than this is refused (Cloudflare's own are far smaller). */
const MAX_EVENT_BYTES = 4 * 1024 * 1024;
/** Keep-alive: a ping this often; no pong before the next one means the connection is gone. */
const PING_MS = 10_000;

/** The part of a trace event (TailEventMessage in wrangler) that wfn reads. */
export interface TraceEvent {
  outcome?: string;
  eventTimestamp?: number;
  wallTime?: number;
  event?: { request?: { url?: string; method?: string }; response?: { status?: number } } | null;
  logs?: { level?: string; message?: unknown[]; timestamp?: number }[];
  exceptions?: { name?: string; message?: unknown; timestamp?: number }[];
}

const iso = (ms: number | undefined, fallback: number) => new Date(typeof ms === 'number' && Number.isFinite(ms) ? ms : fallback).toISOString();

function text(part: unknown): string {
  if (typeof part === 'string') return part;
  try {
    return JSON.stringify(part) ?? String(part);
  } catch {
    return String(part);
  }
}

/** The shim's failure line: "wfn: <outcome>: <reason>" (shim.ts). */
const SHIM_FAILURE = /^wfn: (trap|exit|malformed|timeout|memory|busy|bad-request|abandoned|noresponse): /;

function outcomeOf(event: TraceEvent, status: number, messages: string[]): 'ok' | 'error' | 'timeout' | 'exception' {
  if (event.outcome === 'exception') return 'exception';
  if (event.outcome === 'exceededCpu' || event.outcome === 'exceededWallTime') return 'timeout';
  if (event.outcome && event.outcome !== 'ok') return 'error';
  const shim = messages.map((m) => SHIM_FAILURE.exec(m)?.[1]).find(Boolean);
  if (shim === 'timeout') return 'timeout';
  if (shim || status >= 500) return 'error';
  return 'ok';
}

/** The LogLines of one trace event: its request line first, then its console lines and exceptions. */
export function linesOfEvent(event: TraceEvent, now = Date.now()): LogLine[] {
  const at = typeof event.eventTimestamp === 'number' ? event.eventTimestamp : now;
  const stderr: LogLine[] = [];
  for (const log of event.logs ?? []) {
    stderr.push({ kind: 'stderr', time: iso(log.timestamp, at), text: (Array.isArray(log.message) ? log.message : [log.message]).map(text).join(' ') });
  }
  for (const ex of event.exceptions ?? []) {
    stderr.push({ kind: 'stderr', time: iso(ex.timestamp, at), text: `${ex.name ?? 'Error'}: ${text(ex.message)}` });
  }
  const request = event.event?.request;
  if (!request || typeof request.method !== 'string' || typeof request.url !== 'string') return stderr;
  let path = request.url;
  try {
    const u = new URL(request.url);
    path = u.pathname + u.search;
  } catch {
    // not an absolute URL: keep it as it came
  }
  // No response means the Worker threw: the client got Cloudflare's 500.
  const status = typeof event.event?.response?.status === 'number' ? event.event.response.status : 500;
  const line: LogLine = {
    kind: 'request',
    time: iso(at, now),
    method: request.method.toUpperCase(),
    path,
    status,
    durationMs: typeof event.wallTime === 'number' && event.wallTime >= 0 ? event.wallTime : 0,
    outcome: outcomeOf(event, status, stderr.map((l) => (l.kind === 'stderr' ? l.text : ''))),
  };
  return [line, ...stderr];
}

interface TailRecord {
  id: string;
  url: string;
  expires_at?: string;
}

/** Opens a tail on the Worker and reads it until `options.signal` aborts; the tail is deleted at the end. */
export async function tailWorker(name: string, options: LogsOptions): Promise<void> {
  if (!options.follow) {
    throw new UserError(
      'Cloudflare keeps no log history wfn can read: a Workers Tail shows only the requests made while it is open.',
      'Run `wfn logs --target cloudflare --follow` and make the requests then; past logs are in Workers Logs (dashboard) when observability is enabled for the Worker.',
    );
  }
  const creds = credentialsFrom(options.env);
  const script = `/accounts/${encodeURIComponent(creds.accountId)}/workers/scripts/${encodeURIComponent(name)}`;
  if (options.signal.aborted) return;
  const tail = await createTail(creds, script, name);
  const remove = () => call(creds, 'delete the tail', 'DELETE', `${script}/tails/${encodeURIComponent(tail.id)}`).then(() => undefined);
  try {
    options.log(`tailing the Worker ${name} (until interrupted)`);
    await readTail(tail.url, options);
  } finally {
    // Delete the tail whatever happened: an open tail counts against the Worker's limit.
    await remove().catch((error: unknown) => options.log(`could not delete the tail ${tail.id}: ${(error as Error).message}`));
  }
}

async function createTail(creds: CloudflareCredentials, script: string, name: string): Promise<TailRecord> {
  try {
    const tail = await call<TailRecord>(creds, `start a tail on the Worker ${name}`, 'POST', `${script}/tails`, { data: JSON.stringify({ filters: [] }), contentType: 'application/json' });
    if (!tail || typeof tail.id !== 'string' || typeof tail.url !== 'string' || !/^wss?:\/\//.test(tail.url)) {
      throw new UserError(`Cloudflare API: start a tail on the Worker ${name} answered without a tail id and WebSocket url.`);
    }
    return tail;
  } catch (error) {
    if (isScriptNotFound(error)) throw notFound(name, creds);
    throw error;
  }
}

export function notFound(name: string, creds: CloudflareCredentials): UserError {
  return new UserError(`There is no Worker named "${name}" in Cloudflare account ${creds.accountId}.`, 'Check --name (default: wfn.toml\'s name) and CLOUDFLARE_ACCOUNT_ID; `wfn ls --target cloudflare` lists the Workers wfn deployed.');
}

/** Reads trace events from the tail's WebSocket until the signal aborts or the server closes it. */
function readTail(url: string, options: LogsOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(url, TRACE_VERSION, { headers: { 'User-Agent': 'wfn' }, maxPayload: MAX_EVENT_BYTES });
    let settled = false;
    let waitingForPong = false;
    let opened = false;
    const ping = setInterval(() => {
      if (waitingForPong) {
        finish(new UserError('The Workers Tail connection was lost: no answer to a keep-alive ping.', 'Run `wfn logs --follow` again.'));
        ws.terminate();
        return;
      }
      waitingForPong = true;
      ws.ping();
    }, PING_MS);
    const onAbort = () => {
      finish();
      ws.close(1000);
    };
    function finish(error?: Error) {
      if (settled) return;
      settled = true;
      clearInterval(ping);
      options.signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    }
    options.signal.addEventListener('abort', onAbort, { once: true });
    ws.on('pong', () => {
      waitingForPong = false;
    });
    ws.on('open', () => {
      opened = true;
      ws.send(JSON.stringify({ debug: false }));
    });
    ws.on('message', (data, isBinary) => {
      if (settled) return;
      let event: TraceEvent;
      try {
        event = JSON.parse(isBinary ? Buffer.from(data as Buffer).toString('utf8') : data.toString()) as TraceEvent;
      } catch {
        options.log('skipped a tail message that is not JSON');
        return;
      }
      if (!event || typeof event !== 'object') return;
      for (const line of linesOfEvent(event)) options.onLine(line);
    });
    ws.on('error', (error) => {
      finish(new UserError(`The Workers Tail connection failed: ${error.message}`, opened ? 'Run `wfn logs --follow` again.' : 'Check the network; the tail may have expired before it was opened.'));
      ws.terminate();
    });
    ws.on('close', (code) => {
      if (settled) return;
      // The server ended the tail (it expired, or the Worker was deleted): what was shown stands.
      options.log(`the Workers Tail was closed by Cloudflare (code ${code})`);
      finish();
    });
    if (options.signal.aborted) onAbort();
  });
}
