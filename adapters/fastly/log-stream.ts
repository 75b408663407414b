/**
 * `wfn logs --target fastly`: the service's instance output (the program's stdout and stderr)
 * through Fastly's real-time log tailing, the way `fastly log-tail` reads it:
 *   POST /service/{id}/log_stream/managed/instance_output           enable it (409: enabled already)
 *   GET  /service/{id}/log_stream/managed/instance_output?from=<s>   NDJSON, one batch a line:
 *        {"batch_id", "logs": [{"sequence_number", "request_start_us", "stream", "id", "message"}]}
 *        then the Link header's rel="next" (…?from=<unix seconds>) is the next window to ask for
 * 5xx and 429 are retried after a second (as the Fastly CLI does); a 404 for a `from` is a
 * window out of reach. The function's stderr is the `stderr` stream (the adapter passes fd 2
 * through to Fastly's WASI); on `stdout` (fd 1 is the CGI response, so the function never writes
 * there) the adapter writes one request line per request (adapter.wat, `wfn-request ...`).
 */
import type { LogLine, LogsOptions } from '../../src/target/types.js';
import { UserError } from '../../src/util/errors.js';
import { apiError, type FastlyApi } from './deploy.js';
import { sleepUnlessAborted } from '../../src/util/sleep.js';

export interface InstanceLog {
  sequence_number?: number;
  request_start_us?: number;
  stream?: string;
  id?: string;
  message?: string;
}

interface Batch {
  batch_id?: string;
  logs?: InstanceLog[];
}

/** A batch line longer than this is refused (the Fastly CLI reads lines of up to 10 MB). */
const MAX_LINE_BYTES = 10 * 1024 * 1024;
/** Without --since and --follow: this far back. */
const DEFAULT_WINDOW_MS = 10 * 60 * 1000;

/**
 * The request line the adapter writes on the instance's stdout once the response is sent:
 * `wfn-request <status> <duration µs> <outcome> <method> <path>` (adapter.wat, $request_line).
 */
const REQUEST_LINE = /^wfn-request (\d{3}) (\d+) (ok|error) ([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S*)$/;

const isoOfUs = (us: number | undefined) => new Date(typeof us === 'number' && Number.isFinite(us) ? Math.floor(us / 1000) : Date.now()).toISOString();

/** The LogLines of one instance-output entry: a request line (stdout, the adapter's) or stderr lines. */
export function linesOfLog(log: InstanceLog): LogLine[] {
  const time = isoOfUs(log.request_start_us);
  const text = typeof log.message === 'string' ? log.message : '';
  const out: LogLine[] = [];
  for (const line of text.replace(/\r?\n$/, '').split(/\r?\n/)) {
    const request = log.stream === 'stdout' ? REQUEST_LINE.exec(line) : null;
    if (request) {
      out.push({ kind: 'request', time, method: request[4], path: request[5], status: Number(request[1]), durationMs: Number(request[2]) / 1000, outcome: request[3] as 'ok' | 'error' });
    } else {
      // stderr, or what a module built for Fastly (packaged as it is) printed itself
      out.push({ kind: 'stderr', time, text: line });
    }
  }
  return out;
}

/** The `from` of a Link header's rel="next" (unix seconds), as the Fastly CLI reads it. */
export function nextWindow(link: string | null): number | undefined {
  for (const part of (link ?? '').split(',')) {
    if (!/;\s*rel="?next"?/.test(part)) continue;
    const url = /<([^>]*)>/.exec(part)?.[1];
    const from = url ? /[?&]from=(\d+)/.exec(url)?.[1] : undefined;
    if (from) return Number(from);
  }
  return undefined;
}

/** 401/403/404 on the log stream of a service that exists: the token's rights, or log tailing not offered to the account. */
function tailingError(error: UserError, status: number): UserError {
  if (status !== 401 && status !== 403 && status !== 404) return error;
  return new UserError(
    error.message,
    'Log tailing needs a FASTLY_API_TOKEN that may change the service (the "global" scope, the engineer role or above), and real-time log tailing (the managed instance_output log stream) available on the account: it is not on every account; Fastly support can enable it. docs/targets/fastly.md, "Logs".',
  );
}

/** Turns on managed logging of the instance output (idempotent: 409 means it is on). */
export async function enableInstanceOutput(api: FastlyApi, serviceId: string, log: (m: string) => void): Promise<void> {
  const apiPath = `/service/${encodeURIComponent(serviceId)}/log_stream/managed/instance_output`;
  const res = await api.fetch('POST', apiPath);
  const text = await res.text();
  if (res.status === 409) return;
  if (!res.ok) throw tailingError(apiError('POST', apiPath, res.status, text), res.status);
  log(`enabled managed logging (instance output) on the Fastly service ${serviceId}`);
}

/** Splits a response body into lines, each at most MAX_LINE_BYTES. */
async function* bodyLines(res: Response): AsyncGenerator<string> {
  if (!res.body) return;
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      yield pending.slice(0, nl);
      pending = pending.slice(nl + 1);
    }
    if (pending.length > MAX_LINE_BYTES) throw new UserError(`The Fastly log stream sent a line longer than ${MAX_LINE_BYTES} bytes.`);
  }
  pending += decoder.decode();
  if (pending) yield pending;
}


/** Reads the instance output of the service from `since` (or now) until caught up, or with `follow` until the signal aborts. */
export async function streamInstanceOutput(api: FastlyApi, serviceId: string, options: LogsOptions): Promise<void> {
  const apiPath = `/service/${encodeURIComponent(serviceId)}/log_stream/managed/instance_output`;
  const startMs = options.since?.getTime() ?? (options.follow ? undefined : Date.now() - DEFAULT_WINDOW_MS);
  const stopAt = Math.floor(Date.now() / 1000);
  let from = startMs === undefined ? undefined : Math.floor(startMs / 1000);
  let batchId: string | undefined;
  const seen = new Set<string>();
  const { signal } = options;
  while (!signal.aborted) {
    if (!options.follow && from !== undefined && from > stopAt) return;
    const query = new URLSearchParams({ ...(from !== undefined ? { from: String(from) } : {}), ...(batchId ? { batch_id: batchId } : {}) });
    let res: Response;
    try {
      res = await api.fetch('GET', `${apiPath}${query.size > 0 ? `?${query}` : ''}`, signal);
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
    if (res.status !== 200) {
      const text = await res.text().catch(() => '');
      if ((res.status >= 500 && res.status !== 501) || res.status === 429) {
        await sleepUnlessAborted(1000, signal);
        continue;
      }
      if (res.status === 404 && from !== undefined) {
        throw new UserError(`Fastly has no instance output for service ${serviceId} from ${new Date(from * 1000).toISOString()}: that window is too far in the past or in the future.`, 'Try a shorter --since.');
      }
      throw tailingError(apiError('GET', apiPath, res.status, text), res.status);
    }
    try {
      for await (const line of bodyLines(res)) {
        if (!line.trim()) continue;
        let batch: Batch;
        try {
          batch = JSON.parse(line) as Batch;
        } catch {
          options.log('skipped a log batch that is not JSON');
          continue;
        }
        if (!batch.batch_id || seen.has(batch.batch_id)) continue;
        seen.add(batch.batch_id);
        // Only the recent ids matter (a retry repeats the last window): bound the set.
        if (seen.size > 1000) seen.delete(seen.values().next().value as string);
        batchId = batch.batch_id;
        // In request order, and in write order inside a request.
        const logs = [...(batch.logs ?? [])].sort((a, b) => (a.request_start_us ?? 0) - (b.request_start_us ?? 0) || (a.sequence_number ?? 0) - (b.sequence_number ?? 0));
        for (const log of logs) for (const l of linesOfLog(log)) options.onLine(l);
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof UserError) throw error;
      // a cut connection: ask again from the last batch
      continue;
    }
    batchId = undefined;
    const next = nextWindow(res.headers.get('link'));
    if (next === undefined) {
      if (!options.follow) return;
      await sleepUnlessAborted(1000, signal);
      continue;
    }
    from = next;
  }
}
