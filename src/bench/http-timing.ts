/**
 * One HTTP request on a fresh connection, timed the way curl's `-w` reports it
 * (time_namelookup, time_connect, time_appconnect, time_starttransfer, time_total): every
 * figure is milliseconds since the request started. The seed's 5.5.3 method.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';

export interface RequestTiming {
  /** When the request started (epoch ms), to plot a series over time. */
  at: number;
  status: number;
  bytes: number;
  /** DNS resolution done (0 for an IP literal: nothing to resolve). */
  namelookup: number;
  /** TCP handshake done. */
  connect: number;
  /** TLS handshake done (equals connect for plain HTTP). */
  appconnect: number;
  /** First byte of the response (the response head, parsed). */
  starttransfer: number;
  /** Last byte of the response. */
  total: number;
  /** The seed's process time: starttransfer - (connect - namelookup). */
  process: number;
  /** Time the server took after the request could be sent: starttransfer - appconnect. */
  server: number;
}

export interface TimingOptions {
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/** The seed's formula (5.5.3): TTFB minus the TCP handshake. */
export function processTime(t: Pick<RequestTiming, 'starttransfer' | 'connect' | 'namelookup'>): number {
  return t.starttransfer - (t.connect - t.namelookup);
}

/** GET `url` on a new connection (no keep-alive agent), measuring each phase. */
export function timeRequest(url: string, options: TimingOptions = {}): Promise<RequestTiming> {
  const target = new URL(url);
  const client = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
  if (!client) return Promise.reject(new Error(`unsupported protocol ${target.protocol} (http: or https:)`));
  return new Promise((resolve, reject) => {
    const at = Date.now();
    const start = performance.now();
    const since = () => performance.now() - start;
    let namelookup = 0;
    let connect: number | undefined;
    let appconnect: number | undefined;
    let starttransfer = 0;
    let bytes = 0;
    const req = client.request(target, {
      method: 'GET',
      agent: false,
      headers: { 'user-agent': 'wfn-bench', accept: '*/*', connection: 'close', ...options.headers },
      timeout: options.timeoutMs ?? 30_000,
    });
    req.once('socket', (socket: Socket) => {
      socket.once('lookup', () => (namelookup = since()));
      socket.once('connect', () => (connect = since()));
      socket.once('secureConnect', () => (appconnect = since()));
    });
    req.once('timeout', () => req.destroy(new Error(`no response within ${options.timeoutMs ?? 30_000} ms`)));
    req.once('error', reject);
    req.once('response', (res) => {
      starttransfer = since();
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.once('error', reject);
      res.once('end', () => {
        const total = since();
        const tcp = connect ?? namelookup;
        const tls = target.protocol === 'https:' ? (appconnect ?? tcp) : tcp;
        resolve({
          at,
          status: res.statusCode ?? 0,
          bytes,
          namelookup,
          connect: tcp,
          appconnect: tls,
          starttransfer,
          total,
          process: processTime({ starttransfer, connect: tcp, namelookup }),
          server: starttransfer - tls,
        });
      });
    });
    req.end();
  });
}
