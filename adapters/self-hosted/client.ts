/** A small client of the `wfn serve` admin API (docs/self-hosted.md), used by `wfn deploy`, `logs`, `ls`, `versions`, `rollback` and `rm` on the self-hosted target. */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { asLogLine } from '../../src/target/log-line.js';
import type { LogLine } from '../../src/target/types.js';
import { UserError } from '../../src/util/errors.js';

/** One request without keep-alive (a pooled socket would keep the CLI alive for seconds after it is done). */
function send(method: string, url: string, headers: Record<string, string>, body?: Uint8Array): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const lib = url.startsWith('https:') ? https : http;
    const req = lib.request(url, { method, headers: { ...headers, 'content-length': String(body?.length ?? 0) }, agent: false, timeout: 120_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(body);
  });
}

interface FormPart {
  name: string;
  filename?: string;
  contentType: string;
  body: Uint8Array;
}

/** multipart/form-data (RFC 7578), the admin API's deploy envelope. */
function multipart(parts: FormPart[]): { body: Uint8Array; contentType: string } {
  const boundary = `wfn-${randomBytes(12).toString('hex')}`;
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    const disposition = `form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: ${p.contentType}\r\n\r\n`), p.body, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export interface AdminClientOptions {
  /** Base URL of the server, e.g. http://127.0.0.1:8080. */
  url: string;
  token?: string;
}

export interface FunctionInfo {
  name: string;
  current: number;
  sha256: string;
  manifest: { version: number; sha256: string; size: number; config: { env: Record<string, string>; limits: { memoryMiB: number; timeoutMs: number }; concurrency?: number } };
  versions: { version: number; sha256: string; size: number; deployedAt: string }[];
}

export interface FunctionSummary {
  name: string;
  version: number;
  sha256: string;
  size: number;
  deployedAt: string;
}

/** Longest NDJSON line the logs reader accepts from the server (a line is at most a few KiB). */
const MAX_LOG_LINE_BYTES = 64 * 1024;

export interface PutResult {
  name: string;
  version: number;
  sha256: string;
  unchanged: boolean;
}

export class AdminClient {
  readonly base: string;

  constructor(private readonly options: AdminClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new UserError(`--url ${JSON.stringify(options.url)} is not a URL.`, 'Pass the wfn serve base URL, e.g. --url http://127.0.0.1:8080');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UserError(`--url must be http:// or https://, got ${options.url}`);
    this.base = parsed.href.replace(/\/+$/, '');
  }

  functionUrl(name: string): string {
    return `${this.base}/${name}/`;
  }

  private async call(method: string, path: string, upload?: { body: Uint8Array; contentType: string }): Promise<{ status: number; json: Record<string, unknown> }> {
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    if (upload) headers['content-type'] = upload.contentType;
    let res: { status: number; body: Buffer };
    try {
      res = await send(method, `${this.base}/_wfn/${path}`, headers, upload?.body);
    } catch (error) {
      const e = error as NodeJS.ErrnoException;
      throw new UserError(`Cannot reach wfn serve at ${this.base}: ${e.code ?? e.message}`, 'Is the server running? Check --url.');
    }
    const text = res.body.toString('utf8');
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      json = { error: text.slice(0, 300) };
    }
    if (res.status === 401) throw new UserError(`wfn serve at ${this.base} refused the admin token (401).`, 'Set WFN_TOKEN to the token the server was started with.');
    return { status: res.status, json };
  }

  private static failure(what: string, status: number, json: Record<string, unknown>): UserError {
    const reason = typeof json.error === 'string' ? json.error : `HTTP ${status}`;
    if (status === 413) return new UserError(`${what}: ${reason}`, 'Raise the server limit (wfn serve --max-body MiB) or shrink the module (wasm-opt -Oz).');
    return new UserError(`${what}: ${reason}`);
  }

  async get(name: string): Promise<FunctionInfo | undefined> {
    const { status, json } = await this.call('GET', `functions/${name}`);
    if (status === 404) return undefined;
    if (status !== 200) throw AdminClient.failure(`Reading ${name} from ${this.base} failed`, status, json);
    return json as unknown as FunctionInfo;
  }

  async list(): Promise<FunctionSummary[]> {
    const { status, json } = await this.call('GET', 'functions');
    if (status !== 200) throw AdminClient.failure(`Listing the functions of ${this.base} failed`, status, json);
    return (json.functions ?? []) as FunctionSummary[];
  }

  /** Makes `version` (default: the one before the live one) live. */
  async rollback(name: string, version?: number): Promise<{ version: number; from: number | null; unchanged: boolean }> {
    const { status, json } = await this.call('POST', `functions/${name}/rollback${version === undefined ? '' : `?version=${version}`}`);
    if (status !== 200) throw AdminClient.failure(`wfn serve at ${this.base} refused to roll ${name} back`, status, json);
    return json as unknown as { version: number; from: number | null; unchanged: boolean };
  }

  /** False when there was no such function. */
  async remove(name: string): Promise<boolean> {
    const { status, json } = await this.call('DELETE', `functions/${name}`);
    if (status === 404) return false;
    if (status !== 204) throw AdminClient.failure(`wfn serve at ${this.base} refused to delete ${name}`, status, json);
    return true;
  }

  /**
   * The function's log lines from GET /_wfn/functions/:name/logs (NDJSON): the kept ones since
   * `since`, then with `follow` new ones until `signal` aborts or the server ends the stream.
   */
  logs(name: string, options: { follow: boolean; since?: Date; signal: AbortSignal; onLine(line: LogLine): void }): Promise<void> {
    const query = new URLSearchParams();
    if (options.follow) query.set('follow', '1');
    if (options.since) query.set('since', options.since.toISOString());
    const url = `${this.base}/_wfn/functions/${name}/logs?${query}`;
    const headers: Record<string, string> = this.options.token ? { authorization: `Bearer ${this.options.token}` } : {};
    return new Promise((resolve, reject) => {
      if (options.signal.aborted) return resolve();
      const lib = url.startsWith('https:') ? https : http;
      const req = lib.request(url, { method: 'GET', headers, agent: false }, (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.length < 16 && chunks.push(c));
          res.on('end', () => {
            let reason = `HTTP ${status}`;
            try {
              reason = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error?: string }).error ?? reason;
            } catch {
              // not JSON: keep the status
            }
            if (status === 401) reject(new UserError(`wfn serve at ${this.base} refused the admin token (401).`, 'Set WFN_TOKEN to the token the server was started with.'));
            else if (status === 404 && /no function/.test(reason)) reject(new UserError(`There is no function ${name} on ${this.base}.`, `See what is deployed there: wfn ls --target self-hosted --url ${this.base}`));
            else reject(AdminClient.failure(`Reading the logs of ${name} from ${this.base} failed`, status, { error: reason }));
          });
          return;
        }
        res.setEncoding('utf8');
        let pending = '';
        res.on('data', (chunk: string) => {
          pending += chunk;
          let newline: number;
          while ((newline = pending.indexOf('\n')) >= 0) {
            const text = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            if (!text.trim()) continue; // the server's heartbeat
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              continue;
            }
            const line = asLogLine(parsed);
            if (line) options.onLine(line);
          }
          if (pending.length > MAX_LOG_LINE_BYTES) {
            req.destroy();
            reject(new UserError(`wfn serve at ${this.base} sent a log line over ${MAX_LOG_LINE_BYTES} bytes.`));
          }
        });
        res.on('end', () => resolve());
        res.on('error', () => resolve());
      });
      const onAbort = () => {
        req.destroy();
        resolve();
      };
      options.signal.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => options.signal.removeEventListener('abort', onAbort));
      req.on('error', (error: NodeJS.ErrnoException) => {
        if (options.signal.aborted) return resolve();
        reject(new UserError(`Cannot reach wfn serve at ${this.base}: ${error.code ?? error.message}`, 'Is the server running? Check --url.'));
      });
      req.end();
    });
  }

  async put(name: string, bytes: Uint8Array, config: unknown): Promise<PutResult> {
    const { status, json } = await this.call('PUT', `functions/${name}`, multipart([
      { name: 'config', contentType: 'application/json', body: Buffer.from(JSON.stringify(config)) },
      { name: 'wasm', filename: `${name}.wasm`, contentType: 'application/wasm', body: bytes },
    ]));
    if (status !== 200 && status !== 201) throw AdminClient.failure(`wfn serve at ${this.base} refused the deploy`, status, json);
    return json as unknown as PutResult;
  }
}
