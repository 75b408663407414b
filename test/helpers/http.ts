/** A raw HTTP client for tests: keeps repeated headers (fetch folds them) and binary bodies. */
import http from 'node:http';

export interface RawResponse {
  status: number;
  /** Lower-case names, arrival order, repeated names kept. */
  headers: [string, string][];
  body: Buffer;
}

export function request(url: string, options: { method?: string; headers?: [string, string][]; body?: Uint8Array; timeoutMs?: number } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // Raw header arrays keep repeated names, but then node adds no defaults: add Host and Content-Length.
    const given = options.headers ?? [];
    const has = (name: string) => given.some(([k]) => k.toLowerCase() === name);
    const flat: string[] = [];
    if (!has('host')) flat.push('host', new URL(url).host);
    for (const [k, v] of given) flat.push(k, v);
    if (!has('content-length') && !has('transfer-encoding')) flat.push('content-length', String(options.body?.length ?? 0));
    const req = http.request(url, { method: options.method ?? 'GET', headers: flat, timeout: options.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) headers.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
        resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${options.timeoutMs ?? 30_000} ms: ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Headers a function controls (drops what each server adds on its own: date, connection, ...). */
export function functionHeaders(headers: [string, string][]): [string, string][] {
  const hostOwned = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding', 'server', 'cf-ray', 'x-wfn-target']);
  return headers.filter(([k]) => !hostOwned.has(k));
}
