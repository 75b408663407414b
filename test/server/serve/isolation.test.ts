// Isolation: a looping function beside a healthy one, saturation -> 503 + Retry-After,
// timeouts and memory-cap hits as clean 5xx that show in the metrics.
import { afterEach, describe, expect, it } from 'vitest';
import { LOOP_WAT, MEMORY_BOMB_WAT } from '../../fixtures/contract.js';
import { request } from '../../helpers/http.js';
import { until } from '../../helpers/wait.js';
import { wat2wasm } from '../../helpers/wat.js';
import { admin, deploy, sleepFunction, startTestServe, textFunction, type TestServer } from './helpers.js';

const metric = (text: string, line: RegExp) => Number(line.exec(text)?.[1] ?? NaN);
/** A gauge or counter of the server now, from its metrics (what the tests order their steps by). */
async function metricNow(server: TestServer, line: RegExp): Promise<number> {
  return metric((await admin(server.url, 'metrics')).body.toString(), line);
}
const inFlight = (name: string) => new RegExp(`^wfn_in_flight_requests\\{function="${name}"\\} (\\d+)$`, 'm');

describe('wfn serve isolation', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('a looping function never slows a healthy one beyond its own slots', async () => {
    server = await startTestServe({ workers: 2 }); // default concurrency per function: workers - 1 = 1
    await deploy(server.url, 'loop', await wat2wasm(LOOP_WAT), { limits: { timeoutMs: 2500 } });
    await deploy(server.url, 'healthy', await textFunction('fine'));
    expect((await request(`${server.url}/healthy/`)).body.toString()).toBe('fine'); // warm
    const timed = async (n: number) => {
      const latencies: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = performance.now();
        const res = await request(`${server.url}/healthy/`);
        latencies.push(performance.now() - t);
        expect(res.status).toBe(200);
      }
      return latencies.sort((a, b) => a - b)[Math.floor(n / 2)];
    };
    const alone = await timed(15);

    let loopsEnded = 0;
    const loops = [1, 2, 3].map(() => request(`${server!.url}/loop/`).finally(() => loopsEnded++));
    // The loop holds its one slot now (the gauge counts the three as running or waiting).
    await until('the three loop requests admitted', async () => (await metricNow(server!, inFlight('loop'))) === 3);
    const beside = await timed(30);
    // Ordering: every healthy answer came while the loop still held its slot (no wait for it)...
    expect(loopsEnded).toBe(0);
    expect(await metricNow(server, inFlight('loop'))).toBe(3);
    // ...and the median stays near the one measured side by side without the loop (a ratio, with
    // a floor for sub-millisecond medians), far from the loop's 2.5 s timeout.
    expect(beside).toBeLessThan(Math.max(alone * 5, 50));

    // The looping requests end as 504s, one after another in the loop's own slot.
    const statuses = (await Promise.all(loops)).map((r) => r.status);
    expect(statuses).toEqual([504, 504, 504]);
    const text = (await admin(server.url, 'metrics')).body.toString();
    expect(metric(text, /^wfn_timeouts_total\{function="loop"\} (\d+)$/m)).toBe(3);
    expect(metric(text, /^wfn_requests_total\{function="healthy",status="200"\} (\d+)$/m)).toBe(46);
    expect(metric(text, /^wfn_worker_restarts_total (\d+)$/m)).toBe(3);
    expect(server.access.filter((l) => l.includes(' 504 ') && l.includes('timeout:'))).toHaveLength(3);
  });

  it('answers 503 with Retry-After when a function is at its concurrency and queue limits', async () => {
    server = await startTestServe({ workers: 2, queue: 1 });
    await deploy(server.url, 'slow', await sleepFunction(2000), { concurrency: 1 });
    await deploy(server.url, 'healthy', await textFunction('fine'));
    const first = request(`${server.url}/slow/`); // runs
    await until('the first request admitted', async () => (await metricNow(server!, inFlight('slow'))) === 1);
    const second = request(`${server.url}/slow/`); // waits (queue 1)
    await until('the second request queued', async () => (await metricNow(server!, inFlight('slow'))) === 2);
    const third = await request(`${server.url}/slow/`); // refused at once
    expect(third.status).toBe(503);
    expect(third.headers).toContainEqual(['retry-after', '1']);
    expect((await request(`${server.url}/healthy/`)).status).toBe(200);
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect((await request(`${server.url}/slow/`)).status).toBe(200); // free again
    const text = (await admin(server.url, 'metrics')).body.toString();
    expect(metric(text, /^wfn_rejected_total\{function="slow"\} (\d+)$/m)).toBe(1);
    expect(metric(text, /^wfn_requests_total\{function="slow",status="503"\} (\d+)$/m)).toBe(1);
  });

  it('a memory cap hit is a 500 counted in the metrics, and the server keeps answering', async () => {
    server = await startTestServe({ workers: 2 });
    await deploy(server.url, 'bomb', await wat2wasm(MEMORY_BOMB_WAT), { limits: { memoryMiB: 16 } });
    await deploy(server.url, 'healthy', await textFunction('fine'));
    expect((await request(`${server.url}/bomb/`)).status).toBe(500);
    expect((await request(`${server.url}/healthy/`)).body.toString()).toBe('fine');
    const text = (await admin(server.url, 'metrics')).body.toString();
    expect(metric(text, /^wfn_memory_limit_hits_total\{function="bomb"\} (\d+)$/m)).toBe(1);
    expect(metric(text, /^wfn_traps_total\{function="bomb"\} (\d+)$/m)).toBe(0);
  });
});
