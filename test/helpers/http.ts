/** A raw HTTP client for tests: keeps repeated headers (fetch folds them) and binary bodies. */
import http from 'node:http';
import net from 'node:net';

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

/**
 * Sends `head` (request line and headers, "\r\n"-separated, without the blank line) byte for
 * byte on a fresh connection, as a client that does not follow the rules would, and reads the
 * one answer (the server is asked to close the connection after it).
 */
export function rawRequest(base: string, head: string, body = ''): Promise<RawResponse> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    // Not end(): node answers nothing to a client that half-closes before the response.
    const socket = net.connect(Number(port), hostname, () => socket.write(`${head}\r\nConnection: close\r\n\r\n${body}`));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return reject(new Error(`no HTTP answer: ${JSON.stringify(all.toString().slice(0, 200))}`));
      const [statusLine, ...lines] = all.subarray(0, end).toString('latin1').split('\r\n');
      const headers = lines.map((l): [string, string] => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]);
      let rest = all.subarray(end + 4);
      const length = headers.find(([k]) => k === 'content-length');
      if (length) rest = rest.subarray(0, Number(length[1]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest });
    });
  });
}

/** The body of the ENV_DUMP function as an object. */
export function envOf(res: RawResponse): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of res.body.toString().split('\n')) if (line.includes('=')) vars[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
  return vars;
}
