// One function, or a few, never take the whole pool: work whose client has gone is stopped
// (its worker replaced, or the request dropped while it waits), and a function gets no more
// than its share of the workers while other functions wait. On the default pool of a 2-core
// machine, two looping functions once left a third one unanswered for tens of seconds.
import net from 'node:net';
import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { LOOP_WAT } from '../../fixtures/contract.js';
import { request } from '../../helpers/http.js';
import { wat2wasm } from '../../helpers/wat.js';
import { admin, deploy, startTestServe, textFunction, type TestServer } from './helpers.js';

const LOOP_TIMEOUT_MS = 60_000;
/** Generous: only a lock-out (the loops running to their 60 s timeout) can exceed it, even on a loaded machine. */
const PROMPT_MS = 20_000;

const metric = (text: string, line: RegExp) => Number(line.exec(text)?.[1] ?? NaN);

/** Resolves once `check` holds (polled, bounded). */
async function until(check: () => Promise<boolean>, what: string, limitMs = 10_000): Promise<void> {
  const end = performance.now() + limitMs;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`never happened within ${limitMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A request whose client stays until `hangUp` is called (never rejects). */
function heldRequest(url: string): { hangUp(): void } {
  const { hostname, port, pathname } = new URL(url);
  const socket = net.connect(Number(port), hostname, () => socket.write(`GET ${pathname} HTTP/1.1\r\nHost: x\r\n\r\n`));
  socket.on('error', () => {});
  return { hangUp: () => socket.destroy() };
}

/** A request whose client hangs up after `ms` without an answer (never rejects). */
const hangUpAfter = (url: string, ms: number) => request(url, { timeoutMs: ms }).then((r) => r.status, () => 'hung up' as const);

/** Times 8 requests to the healthy function, 4 at a time. */
async function healthyLatencies(base: string): Promise<number[]> {
  const one = async () => {
    const t = performance.now();
    const res = await request(`${base}/healthy/`, { timeoutMs: PROMPT_MS + 5_000 });
    expect([res.status, res.body.toString()]).toEqual([200, 'fine']);
    return performance.now() - t;
  };
  return [...(await Promise.all([one(), one(), one(), one()])), ...(await Promise.all([one(), one(), one(), one()]))];
}

describe('wfn serve: fair shares of the worker pool', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('two looping functions whose clients hang up do not lock out a third (default pool)', async () => {
    server = await startTestServe({ shutdownTimeoutMs: 100 }); // the default pool: one worker per core, at least 2
    expect(server.pool.size).toBe(Math.max(2, availableParallelism()));
    const loop = await wat2wasm(LOOP_WAT);
    await deploy(server.url, 'loop-a', loop, { limits: { timeoutMs: LOOP_TIMEOUT_MS } });
    await deploy(server.url, 'loop-b', loop, { limits: { timeoutMs: LOOP_TIMEOUT_MS } });
    await deploy(server.url, 'healthy', await textFunction('fine'));

    const loops = ['loop-a', 'loop-b'].flatMap((name) => [1, 2, 3].map(() => hangUpAfter(`${server!.url}/${name}/`, 1000)));
    await until(async () => server!.pool.busy >= 2, 'both loops running');
    const latencies = await healthyLatencies(server.url);
    expect(Math.max(...latencies)).toBeLessThan(PROMPT_MS);
    expect(await Promise.all(loops)).toEqual(Array(6).fill('hung up'));

    // The abandoned runs were stopped, not left to run to their 30 s timeout.
    await until(async () => server!.pool.busy === 0 && server!.pool.queued === 0, 'the pool idle again');
    const text = (await admin(server.url, 'metrics')).body.toString();
    expect(metric(text, /^wfn_abandoned_total\{function="loop-a"\} (\d+)$/m)).toBe(3);
    expect(metric(text, /^wfn_abandoned_total\{function="loop-b"\} (\d+)$/m)).toBe(3);
    expect(metric(text, /^wfn_timeouts_total\{function="loop-a"\} (\d+)$/m)).toBe(0);
    expect(server.access.filter((l) => /^GET \/loop-[ab]\/ 499 .*client closed the connection/.test(l))).toHaveLength(6);
    expect(server.messages.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('a function at its share gets no further worker while another waits, even when its clients stay', async () => {
    server = await startTestServe({ workers: 2, shutdownTimeoutMs: 100 });
    await deploy(server.url, 'hog', await wat2wasm(LOOP_WAT), { limits: { timeoutMs: LOOP_TIMEOUT_MS }, concurrency: 4 });
    await deploy(server.url, 'healthy', await textFunction('fine'));
    // The hog alone may use every worker...
    const hogs = [1, 2, 3, 4].map(() => heldRequest(`${server!.url}/hog/`));
    await until(async () => server!.pool.busy >= 2, 'the hog on both workers');
    // ...but not keep another function waiting for one.
    const latencies = await healthyLatencies(server.url);
    expect(Math.max(...latencies)).toBeLessThan(PROMPT_MS);
    expect(server.pool.workers).toBeLessThanOrEqual(4); // extra workers are bounded (here: 2 more)
    // Hanging up stops the hog's runs and drops its waiting requests.
    for (const hog of hogs) hog.hangUp();
    await until(async () => server!.pool.busy === 0 && server!.pool.queued === 0, 'the pool idle again');
    await until(async () => server!.access.filter((l) => l.startsWith('GET /hog/ 499 ')).length === 4, 'four abandoned hog requests logged');
    expect(server.pool.workers).toBe(2); // the extra workers are gone once idle
  });
});
