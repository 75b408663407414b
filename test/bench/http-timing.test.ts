import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timeRequest } from '../../src/bench/http-timing.js';
import { benchUrls, checkUrl } from '../../src/bench/remote.js';
import { UserError } from '../../src/util/errors.js';

// A local stand-in for a deployed function: waits before the head (server time) and before the end (transfer).
let server: Server;
let base: string;
const seen: string[] = [];
const connections = new Set<number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    connections.add(req.socket.remotePort ?? 0);
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first ');
      setTimeout(() => res.end('last'), 25);
    }, 40);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('curl-style request timings', () => {
  it('orders the phases and sees the server and transfer time', async () => {
    await timeRequest(base); // warm the client code paths
    const t = await timeRequest(`${base}fn?x=1`);
    expect(t.status).toBe(200);
    expect(t.bytes).toBe('first last'.length);
    expect(t.namelookup).toBe(0); // an IP literal: nothing to resolve
    expect(t.connect).toBeGreaterThan(0);
    expect(t.appconnect).toBe(t.connect); // plain HTTP: no TLS
    expect(t.starttransfer).toBeGreaterThanOrEqual(t.connect + 35);
    expect(t.total).toBeGreaterThanOrEqual(t.starttransfer + 10); // 25 ms on the server; loose for a loaded machine
    expect(t.process).toBeCloseTo(t.starttransfer - (t.connect - t.namelookup), 9);
    expect(t.server).toBeCloseTo(t.starttransfer - t.appconnect, 9);
  });

  it('opens a fresh connection for every request', async () => {
    connections.clear();
    for (let i = 0; i < 3; i++) await timeRequest(base);
    expect(connections.size).toBe(3);
  });

  it('rejects on a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(timeRequest(`http://127.0.0.1:${port}/`)).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('--url runs', () => {
  it('requests sequentially, spaced by --every, and records failures without stopping', async () => {
    const sleeps: number[] = [];
    const refused = 'http://127.0.0.1:1/';
    seen.length = 0;
    const results = await benchUrls([base, refused], { count: 3, everyMs: 900_000, cacheBust: true, progress: () => {}, sleep: async (ms) => void sleeps.push(ms) });
    expect(sleeps).toEqual([900_000, 900_000]); // between rounds, never before the first
    expect(results[0].requests).toHaveLength(3);
    expect(results[0].summary!.process.n).toBe(3);
    expect(results[0].summary!.ttfb.p50).toBeGreaterThanOrEqual(35);
    expect(seen.every((u) => /[?&]_wfn=\d+/.test(u))).toBe(true); // cache-busting, as the seed's timestamp
    expect(results[1].requests).toHaveLength(0);
    expect(results[1].failures).toHaveLength(3);
    expect(results[1].summary).toBeUndefined();
  });

  it('refuses what is not an http(s) URL', () => {
    expect(checkUrl('https://example.com')).toBe('https://example.com/');
    expect(() => checkUrl('example.com')).toThrow(UserError);
    expect(() => checkUrl('ftp://example.com/')).toThrow(/only http: and https:/);
  });
});
