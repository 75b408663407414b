/**
 * `--url`: curl-style timings against deployed functions, sequential, optionally spaced
 * (`--every 15m`: the seed waited 15 minutes between requests so each one met a cold start).
 */
import { UserError } from '../util/errors.js';
import { timeRequest, type RequestTiming } from './http-timing.js';
import { summarize, type Summary } from './stats.js';

export interface RemoteSummary {
  namelookup: Summary;
  connect: Summary;
  appconnect: Summary;
  ttfb: Summary;
  total: Summary;
  /** The seed's process time: ttfb - (connect - namelookup), ms. */
  process: Summary;
  /** ttfb - appconnect: the server's part once the request could be sent, ms. */
  server: Summary;
}

export interface RemoteResult {
  url: string;
  requests: RequestTiming[];
  /** Requests that failed (connection error, timeout), with the reason. */
  failures: { at: number; reason: string }[];
  /** Absent when every request failed. */
  summary?: RemoteSummary;
}

export interface RemoteOptions {
  count: number;
  /** Pause between rounds (one request to every URL per round), ms. */
  everyMs: number;
  /** Append `_wfn=<epoch ms>` to the query, as the seed did to defeat CDN caches. */
  cacheBust: boolean;
  timeoutMs?: number;
  progress(message: string): void;
  /** For tests: how to wait. */
  sleep?(ms: number): Promise<void>;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "30s", "15m", "1h", "1h30m", "500ms" -> ms. A bare number means seconds. */
export function parseDuration(text: string): number {
  const trimmed = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== trimmed) {
    throw new UserError(`"${text}" is not a duration.`, 'Use a number with a unit: 30s, 15m, 1h, 1h30m, 500ms.');
  }
  return parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]], 0);
}

export function checkUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserError(`--url ${text} is not a URL.`, 'Pass the deployed function\'s address, e.g. --url https://hello.example.workers.dev/');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UserError(`--url ${text}: only http: and https: are supported.`);
  return url.href;
}

function bust(url: string): string {
  const u = new URL(url);
  u.searchParams.set('_wfn', String(Date.now()));
  return u.href;
}

export function summarizeRemote(timings: RequestTiming[]): RemoteSummary {
  const of = (pick: (t: RequestTiming) => number) => summarize(timings.map(pick), 'ms');
  return {
    namelookup: of((t) => t.namelookup),
    connect: of((t) => t.connect),
    appconnect: of((t) => t.appconnect),
    ttfb: of((t) => t.starttransfer),
    total: of((t) => t.total),
    process: of((t) => t.process),
    server: of((t) => t.server),
  };
}

export async function benchUrls(urls: string[], options: RemoteOptions): Promise<RemoteResult[]> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const results: RemoteResult[] = urls.map((url) => ({ url, requests: [], failures: [] }));
  for (let round = 0; round < options.count; round++) {
    if (round > 0 && options.everyMs > 0) {
      options.progress(`waiting ${Math.round(options.everyMs / 1000)} s before request ${round + 1}/${options.count}`);
      await sleep(options.everyMs);
    }
    for (const result of results) {
      try {
        result.requests.push(await timeRequest(options.cacheBust ? bust(result.url) : result.url, { timeoutMs: options.timeoutMs }));
      } catch (error) {
        result.failures.push({ at: Date.now(), reason: (error as Error).message });
      }
    }
  }
  for (const result of results) if (result.requests.length > 0) result.summary = summarizeRemote(result.requests);
  return results;
}
