/** A small client of the `wfn serve` admin API (docs/self-hosted.md), used by `wfn deploy --target self-hosted`. */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
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
  versions: { version: number; sha256: string }[];
}

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

  async put(name: string, bytes: Uint8Array, config: unknown): Promise<PutResult> {
    const { status, json } = await this.call('PUT', `functions/${name}`, multipart([
      { name: 'config', contentType: 'application/json', body: Buffer.from(JSON.stringify(config)) },
      { name: 'wasm', filename: `${name}.wasm`, contentType: 'application/wasm', body: bytes },
    ]));
    if (status !== 200 && status !== 201) throw AdminClient.failure(`wfn serve at ${this.base} refused the deploy`, status, json);
    return json as unknown as PutResult;
  }
}
