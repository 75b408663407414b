// Isolation: a looping function beside a healthy one, saturation -> 503 + Retry-After,
// timeouts and memory-cap hits as clean 5xx that show in the metrics.
import { afterEach, describe, expect, it } from 'vitest';
import { LOOP_WAT, MEMORY_BOMB_WAT } from '../../fixtures/contract.js';
import { request } from '../../helpers/http.js';
import { wat2wasm } from '../../helpers/wat.js';
import { admin, deploy, sleepFunction, startTestServe, textFunction, type TestServer } from './helpers.js';

const metric = (text: string, line: RegExp) => Number(line.exec(text)?.[1] ?? NaN);

describe('wfn serve isolation', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('a looping function never slows a healthy one beyond its own slots', async () => {
    server = await startTestServe({ workers: 2 }); // default concurrency per function: workers - 1 = 1
    await deploy(server.url, 'loop', await wat2wasm(LOOP_WAT), { limits: { timeoutMs: 1500 } });
    await deploy(server.url, 'healthy', await textFunction('fine'));
    expect((await request(`${server.url}/healthy/`)).body.toString()).toBe('fine'); // warm

    const loops = [1, 2, 3].map(() => request(`${server.url}/loop/`));
    await new Promise((r) => setTimeout(r, 150)); // the loop holds its one slot now
    const latencies: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      const res = await request(`${server.url}/healthy/`);
      latencies.push(performance.now() - t);
      expect(res.status).toBe(200);
    }
    latencies.sort((a, b) => a - b);
    const p50 = latencies[15];
    const max = latencies[latencies.length - 1];
    expect(p50).toBeLessThan(100);
    expect(max).toBeLessThan(1000); // below the loop's 1.5 s timeout

    // The looping requests end as 504s, one after another in the loop's own slot.
    const statuses = (await Promise.all(loops)).map((r) => r.status);
    expect(statuses).toEqual([504, 504, 504]);
    const text = (await admin(server.url, 'metrics')).body.toString();
    expect(metric(text, /^wfn_timeouts_total\{function="loop"\} (\d+)$/m)).toBe(3);
    expect(metric(text, /^wfn_requests_total\{function="healthy",status="200"\} (\d+)$/m)).toBe(31);
    expect(metric(text, /^wfn_worker_restarts_total (\d+)$/m)).toBe(3);
    expect(server.access.filter((l) => l.includes(' 504 ') && l.includes('timeout:'))).toHaveLength(3);
  });

  it('answers 503 with Retry-After when a function is at its concurrency and queue limits', async () => {
    server = await startTestServe({ workers: 2, queue: 1 });
    await deploy(server.url, 'slow', await sleepFunction(600), { concurrency: 1 });
    await deploy(server.url, 'healthy', await textFunction('fine'));
    const first = request(`${server.url}/slow/`); // runs
    await new Promise((r) => setTimeout(r, 80));
    const second = request(`${server.url}/slow/`); // waits (queue 1)
    await new Promise((r) => setTimeout(r, 80));
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
