/**
 * The timed worker pool (src/runtime/node/timed-pool.ts) on its own, with a small worker
 * (test/fixtures/timed-pool/worker.mjs) that echoes, fails, crashes or spins on command. The
 * worker counts each delivery in shared memory, so the tests see which tasks reached a
 * worker and how often, without timing anything.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TimedWorkerPool } from '../../../src/runtime/node/timed-pool.js';
import type { Outcome } from '../../../src/runtime/types.js';

const SCRIPT = path.resolve(import.meta.dirname, '..', '..', 'fixtures', 'timed-pool', 'worker.mjs');

interface Task {
  op: 'echo' | 'spin' | 'fail' | 'crash';
  /** Index into the delivery counters. */
  value: number;
  group?: string;
}
type Result = { ok: true; value: number; init: string; thread: number } | { ok: false; status: number; outcome: Outcome; reason: string };

const pools: TimedWorkerPool<Task, Result>[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

function pool(size: number, grouped = false, maxOverflow?: number) {
  const receipts = new Int32Array(new SharedArrayBuffer(4 * 64));
  const p = new TimedWorkerPool<Task, Result>(
    {
      script: SCRIPT,
      size,
      init: { type: 'init', label: 'loaded', receipts: receipts.buffer },
      failure: (status, outcome, reason) => ({ ok: false, status, outcome, reason }),
      noun: 'task',
      groupOf: grouped ? (t) => t.group ?? '' : undefined,
      maxOverflow,
    },
    (task) => ({ message: { op: task.op, value: task.value } }),
  );
  pools.push(p);
  return { pool: p, delivered: (value: number) => Atomics.load(receipts, value) };
}

describe('timed worker pool', () => {
  it('runs tasks on workers that got the init message first, and answers each with its own result', async () => {
    const { pool: p } = pool(2);
    const results = await Promise.all([1, 2, 3, 4, 5].map((value) => p.run({ op: 'echo', value }, 10_000)));
    expect(results.map((r) => r.ok && r.value)).toEqual([1, 2, 3, 4, 5]);
    expect(results.every((r) => r.ok && r.init === 'loaded')).toBe(true);
    expect(new Set(results.map((r) => r.ok && r.thread)).size).toBeLessThanOrEqual(2);
  });

  it('stops a task that overruns its timeout: a 504 naming the limit, the worker replaced, the next task served', async () => {
    const { pool: p } = pool(1);
    const first = await p.run({ op: 'echo', value: 1 }, 10_000);
    const looped = await p.run({ op: 'spin', value: 2 }, 200);
    expect(looped).toMatchObject({ ok: false, status: 504, outcome: 'timeout' });
    expect(!looped.ok && looped.reason).toMatch(/the task ran longer than its timeout \(200 ms\)/);
    expect(p.replaced).toBe(1);
    const after = await p.run({ op: 'echo', value: 3 }, 10_000);
    expect(after).toMatchObject({ ok: true, value: 3, init: 'loaded' }); // the new worker was initialized too
    expect(first.ok && after.ok && after.thread !== first.thread).toBe(true);
  });

  it('re-runs a task queued behind an overrun on a fresh worker, so it is not lost', async () => {
    const { pool: p, delivered } = pool(1, true);
    const looping = p.run({ op: 'spin', value: 1, group: 'a' }, 200);
    const behind = p.run({ op: 'echo', value: 2, group: 'a' }, 10_000);
    expect(p.queued).toBe(0); // same group: pipelined to the worker that is about to spin
    expect(await looping).toMatchObject({ ok: false, outcome: 'timeout' });
    expect(await behind).toMatchObject({ ok: true, value: 2 });
    // The spinning worker never read it; its replacement ran it, once.
    expect(delivered(2)).toBe(1);
  });

  it('never queues a task behind another group\'s running task (no extra workers allowed here)', async () => {
    const { pool: p, delivered } = pool(1, true, 0);
    const looping = p.run({ op: 'spin', value: 1, group: 'a' }, 200);
    const other = p.run({ op: 'echo', value: 2, group: 'b' }, 10_000);
    expect(p.queued).toBe(1); // waits in the pool, not behind the loop
    expect(p.busy).toBe(1);
    expect(await looping).toMatchObject({ outcome: 'timeout' });
    expect(await other).toMatchObject({ ok: true, value: 2 });
    expect(delivered(2)).toBe(1);
  });

  it('turns an error reply into a 500 and a crashed worker into a 500, and keeps serving', async () => {
    const { pool: p } = pool(1);
    expect(await p.run({ op: 'fail', value: 1 }, 10_000)).toMatchObject({ ok: false, status: 500, outcome: 'trap', reason: 'host error: Error: no such module' });
    const crashed = await p.run({ op: 'crash', value: 2 }, 10_000);
    expect(crashed).toMatchObject({ ok: false, status: 500, outcome: 'trap' });
    expect(!crashed.ok && crashed.reason).toMatch(/worker crashed: boom/);
    expect(await p.run({ op: 'echo', value: 3 }, 10_000)).toMatchObject({ ok: true, value: 3 });
  });

  it('gives another group an extra worker instead of a wait behind a loop', async () => {
    const { pool: p } = pool(1, true);
    const looping = p.run({ op: 'spin', value: 1, group: 'a' }, 2_000);
    const other = p.run({ op: 'echo', value: 2, group: 'b' }, 10_000);
    expect([p.workers, p.queued]).toEqual([2, 0]); // started at once, on a worker of its own
    expect(await other).toMatchObject({ ok: true, value: 2 }); // answered while 'a' still loops
    expect(p.workers).toBe(1); // the extra worker goes once idle
    expect(await looping).toMatchObject({ outcome: 'timeout' });
  });

  it('on close, answers what still waits with 503 and refuses new tasks', async () => {
    const { pool: p } = pool(1, true, 0);
    const running = p.run({ op: 'spin', value: 1, group: 'a' }, 60_000);
    const waiting = p.run({ op: 'echo', value: 2, group: 'b' }, 60_000);
    await p.close();
    expect(await waiting).toMatchObject({ ok: false, status: 503, outcome: 'busy', reason: 'shutting down' });
    expect(await p.run({ op: 'echo', value: 3 }, 1000)).toMatchObject({ ok: false, status: 503 });
    void running; // its worker is gone; the pool no longer answers for it
  });
});
