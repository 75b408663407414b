import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareRuns } from '../../src/bench/compare.js';
import { requestUrl } from '../../src/bench/macro.js';
import { processTime } from '../../src/bench/http-timing.js';
import { parseDuration } from '../../src/bench/remote.js';
import { BENCH_SCHEMA, type BenchResult } from '../../src/bench/result.js';
import { parseConcurrency, parseTargets } from '../../src/bench/run.js';
import {
  classifyOutliers,
  compareSamples,
  compareValues,
  describeChange,
  histogram,
  mean,
  meanConfidence95,
  medianChangeCi95,
  percentile,
  quantileSorted,
  seededRandom,
  stddev,
  summarize,
  tCritical95,
  tukeyFences,
} from '../../src/bench/stats.js';
import { benchDir, findPreviousRun, LATEST, saveRun } from '../../src/bench/store.js';
import { UserError } from '../../src/util/errors.js';
import { TARGETS } from '../../adapters/index.js';

/** What the CLI passes: the dev server and every registered target. */
const LOCAL = ['dev', ...TARGETS];

/** n draws from N(mu, sigma), reproducible (Box-Muller over the seeded PRNG). */
function normal(n: number, mu: number, sigma: number, seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => {
    const u = 1 - random();
    const v = random();
    return mu + sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  });
}

describe('percentiles', () => {
  const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('interpolates linearly between closest ranks (numpy default, R type 7)', () => {
    expect(percentile(oneToHundred, 50)).toBeCloseTo(50.5, 10);
    expect(percentile(oneToHundred, 90)).toBeCloseTo(90.1, 10);
    expect(percentile(oneToHundred, 99)).toBeCloseTo(99.01, 10);
    expect(percentile(oneToHundred, 0)).toBe(1);
    expect(percentile(oneToHundred, 100)).toBe(100);
    expect(quantileSorted([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 10);
    expect(percentile([7], 99)).toBe(7);
  });

  it('does not depend on the order of the samples', () => {
    const random = seededRandom(3);
    const shuffled = [...oneToHundred].sort(() => 0.5 - random());
    expect(shuffled).not.toEqual(oneToHundred);
    expect(percentile(shuffled, 90)).toBeCloseTo(90.1, 10);
  });

  it('summarize keeps the samples and orders p50 <= p90 <= p99', () => {
    const s = summarize(normal(500, 30, 3, 1), 'us');
    expect(s.n).toBe(500);
    expect(s.samples).toHaveLength(500);
    expect(s.min).toBeLessThanOrEqual(s.p50);
    expect(s.p50).toBeLessThanOrEqual(s.p90);
    expect(s.p90).toBeLessThanOrEqual(s.p99);
    expect(s.p99).toBeLessThanOrEqual(s.max);
    expect(s.p50).toBeCloseTo(30, 0);
    expect(() => summarize([], 'us')).toThrow();
  });
});

describe('mean and its 95 % confidence interval', () => {
  it('computes mean and sample standard deviation', () => {
    const v = [2, 4, 4, 4, 5, 5, 7, 9];
    expect(mean(v)).toBe(5);
    expect(stddev(v)).toBeCloseTo(Math.sqrt(32 / 7), 10);
  });

  it("uses Student's t critical values", () => {
    expect(tCritical95(1)).toBeCloseTo(12.706, 3);
    expect(tCritical95(9)).toBeCloseTo(2.262, 3);
    expect(tCritical95(30)).toBeCloseTo(2.042, 3);
    expect(tCritical95(60)).toBeCloseTo(2.0003, 3);
    expect(tCritical95(120)).toBeCloseTo(1.9799, 3);
    expect(tCritical95(100000)).toBeCloseTo(1.96, 3);
  });

  it('gives mean ± t·s/√n', () => {
    const v = [10, 12, 9, 11, 10, 13, 8, 11, 10, 12];
    const [lo, hi] = meanConfidence95(v);
    const half = (2.262 * stddev(v)) / Math.sqrt(10);
    expect(lo).toBeCloseTo(mean(v) - half, 3);
    expect(hi).toBeCloseTo(mean(v) + half, 3);
    expect(meanConfidence95([5])).toEqual([5, 5]);
  });

  it('covers the true mean about 95 % of the time', () => {
    let covered = 0;
    const trials = 400;
    for (let i = 0; i < trials; i++) {
      const [lo, hi] = meanConfidence95(normal(20, 100, 15, 1000 + i));
      if (lo <= 100 && 100 <= hi) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.91);
    expect(covered / trials).toBeLessThan(0.99);
  });
});

describe('outliers, classified as Criterion does (Tukey fences)', () => {
  // Q1 = 2.25, Q3 = 8.75, IQR = 6.5: mild beyond 1.5 IQR (-7.5, 18.5), severe beyond 3 IQR (-17.25, 28.25).
  const values = [-20, -10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20, 30];

  it('computes the fences from the quartiles', () => {
    const f = tukeyFences(values);
    expect(f.lowMild).toBeCloseTo(-7.5, 10);
    expect(f.lowSevere).toBeCloseTo(-17.25, 10);
    expect(f.highMild).toBeCloseTo(18.5, 10);
    expect(f.highSevere).toBeCloseTo(28.25, 10);
  });

  it('puts each value in exactly one class', () => {
    expect(classifyOutliers(values)).toEqual({ lowSevere: 1, lowMild: 1, highMild: 1, highSevere: 1 });
    expect(classifyOutliers([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toEqual({ lowSevere: 0, lowMild: 0, highMild: 0, highSevere: 0 });
  });

  it('finds the GC-pause style spikes of a cold-start sample', () => {
    const samples = [...normal(200, 30, 1, 7), 45, 300, 1200];
    const o = classifyOutliers(samples);
    expect(o.highSevere).toBeGreaterThanOrEqual(3);
    expect(o.lowSevere).toBe(0);
  });
});

describe('comparison with the previous run', () => {
  const previous = normal(200, 100, 2, 11);

  it('calls a 12 % slower p50 a regression', () => {
    const c = compareSamples(previous, normal(200, 112, 2, 12));
    expect(c.verdict).toBe('regression');
    expect(c.basis).toBe('significant');
    expect(c.change).toBeGreaterThan(0.1);
    expect(c.change).toBeLessThan(0.14);
    expect(c.ci95![0]).toBeGreaterThan(0.05);
    expect(describeChange(c)).toMatch(/^p50 \+1[123]\.\d %, likely a regression$/);
  });

  it('calls a 12 % faster p50 an improvement', () => {
    const c = compareSamples(previous, normal(200, 88, 2, 13));
    expect(c.verdict).toBe('improvement');
    expect(describeChange(c)).toMatch(/^p50 -1[123]\.\d %, improved$/);
  });

  it('calls a resample of the same distribution noise (CI includes 0)', () => {
    const c = compareSamples(previous, normal(200, 100, 2, 14));
    expect(c.verdict).toBe('noise');
    expect(c.basis).toBe('not significant');
    expect(c.ci95![0]).toBeLessThanOrEqual(0);
    expect(c.ci95![1]).toBeGreaterThanOrEqual(0);
    expect(describeChange(c)).toMatch(/no change within noise$/);
  });

  it('calls a significant but tiny change noise (inside the threshold)', () => {
    const c = compareSamples(normal(2000, 100, 0.5, 15), normal(2000, 101, 0.5, 16));
    expect(c.ci95![0]).toBeGreaterThan(0); // significant...
    expect(c.verdict).toBe('noise'); // ...but only +1 %
    expect(c.basis).toBe('within threshold');
    expect(describeChange(c)).toMatch(/change within noise threshold$/);
  });

  it('flips the sign for metrics where higher is better', () => {
    expect(compareSamples(previous, normal(200, 112, 2, 12), { higherIsBetter: true }).verdict).toBe('improvement');
    expect(compareValues(1000, 800, { higherIsBetter: true }).verdict).toBe('regression');
    expect(compareValues(1000, 1250, { higherIsBetter: true }).verdict).toBe('improvement');
    expect(compareValues(1000, 1050, { higherIsBetter: true })).toMatchObject({ verdict: 'noise', basis: 'threshold' });
  });

  it('is deterministic (seeded bootstrap)', () => {
    const current = normal(100, 103, 4, 17);
    expect(medianChangeCi95(previous, current)).toEqual(medianChangeCi95(previous, current));
  });
});

describe('histogram', () => {
  it('counts every sample once and sets aside the values beyond upTo', () => {
    const samples = [...normal(300, 50, 5, 21), 500, 900];
    const h = histogram(samples, { upTo: 100 });
    expect(h.counts.reduce((a, b) => a + b, 0) + h.overflow).toBe(samples.length);
    expect(h.overflow).toBe(2);
    expect(h.counts.length).toBeGreaterThanOrEqual(8);
    expect(h.counts.length).toBeLessThanOrEqual(60);
    expect(histogram([3, 3, 3]).counts.reduce((a, b) => a + b, 0)).toBe(3);
  });
});

describe('parsing', () => {
  it('parses durations like 30s, 15m, 1h', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('90')).toBe(90_000);
    expect(() => parseDuration('15x')).toThrow(UserError);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
  });

  it('parses concurrency levels and targets', () => {
    expect(parseConcurrency('1,10,50')).toEqual([1, 10, 50]);
    expect(parseConcurrency('none')).toEqual([]);
    expect(() => parseConcurrency('1,0')).toThrow(UserError);
    expect(() => parseConcurrency('a')).toThrow(/not a connection count/);
    expect(parseTargets('dev, cloudflare,dev', LOCAL)).toEqual(['dev', 'cloudflare']);
    expect(() => parseTargets('dev,heroku', LOCAL)).toThrow(/Unknown target "heroku"/);
  });

  it('joins the request path below an emulator URL that mounts the function on a route', () => {
    expect(requestUrl('http://127.0.0.1:9/', '/?n=3')).toBe('http://127.0.0.1:9/?n=3');
    expect(requestUrl('http://127.0.0.1:9/hello/', '/?n=3')).toBe('http://127.0.0.1:9/hello/?n=3');
    expect(requestUrl('http://127.0.0.1:9/hello/', '/a/b')).toBe('http://127.0.0.1:9/hello/a/b');
  });
});

describe("the seed's process-time formula", () => {
  it('is time_starttransfer - (time_connect - time_namelookup), as in the appendix', () => {
    // Rust, Fibonacci 32, Fastly Compute@Edge (seed appendix): 0.094141 - (0.001207 - 0.000820) = 0.093754 s
    expect(processTime({ starttransfer: 94.141, connect: 1.207, namelookup: 0.82 })).toBeCloseTo(93.754, 6);
  });
});

function fakeRun(name: string, createdAt: string, coldStart: number[], rps: number): BenchResult {
  const s = summarize(coldStart, 'us');
  return {
    schema: BENCH_SCHEMA,
    createdAt,
    wfnVersion: '0.0.0',
    environment: { node: 'v20', v8: '11', platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'test' },
    subject: { name, source: 'wasm', sha256: 'abc' },
    settings: { samples: coldStart.length, warmup: 0, requests: 1, urlRequests: 1, concurrency: [10], targets: ['dev'], path: '/', urls: [], everyMs: 0, cacheBust: false },
    micro: { request: { method: 'GET', path: '/', status: 200, outcome: 'ok' }, compile: s, coldStart: s, instantiate: s, run: s },
    targets: [
      {
        target: 'dev',
        available: true,
        url: 'http://127.0.0.1:1/',
        startMs: 1,
        firstRequest: { at: 0, status: 200, bytes: 1, namelookup: 0, connect: 0.1, appconnect: 0.1, starttransfer: 1, total: 1.1, process: 0.9, server: 0.9 },
        latency: { connect: summarize([0.1, 0.2], 'ms'), ttfb: summarize([1, 1.1], 'ms'), total: summarize([1.1, 1.2], 'ms'), server: summarize([0.9, 1], 'ms') },
        statuses: { 200: 2 },
        throughput: [{ concurrency: 10, requests: 100, durationMs: 100, reqPerSec: rps, latency: summarize([1], 'ms'), errors: 0, non2xx: 0 }],
      },
      { target: 'fastly', available: false, reason: 'not here' },
    ],
    remote: [],
    comparison: { previous: null, changes: [] },
  };
}

describe('runs saved under .wfn/bench and compared', () => {
  it('compares every shared metric and reports the verdicts', () => {
    const before = fakeRun('hello', '2025-01-01T00:00:00.000Z', normal(200, 30, 1, 31), 1000);
    const after = fakeRun('hello', '2025-01-02T00:00:00.000Z', normal(200, 36, 1, 32), 700);
    const comparison = compareRuns(before, after, '/x/a.json');
    expect(comparison.previous).toMatchObject({ file: '/x/a.json', createdAt: before.createdAt, sameModule: true });
    const byMetric = Object.fromEntries(comparison.changes.map((c) => [c.metric, c]));
    expect(byMetric['micro.coldStart'].verdict).toBe('regression');
    expect(byMetric['micro.coldStart'].message).toMatch(/^p50 \+\d+\.\d %, likely a regression$/);
    expect(byMetric['target.dev.throughput.c10']).toMatchObject({ verdict: 'regression', basis: 'threshold', unit: 'rps' });
    expect(byMetric['target.fastly.total']).toBeUndefined();
    expect(compareRuns(undefined, after)).toEqual({ previous: null, changes: [] });
  });

  it('finds the newest run of the same function, via latest.json or by scanning', async () => {
    const base = await mkdtemp(path.join(tmpdir(), 'wfn-bench-store-'));
    const dir = benchDir(base);
    expect(await findPreviousRun(dir, 'hello')).toBeUndefined();
    const first = await saveRun(dir, fakeRun('hello', '2025-01-01T00:00:00.000Z', [1, 2, 3], 1));
    const second = await saveRun(dir, fakeRun('hello', '2025-01-02T00:00:00.000Z', [1, 2, 3], 1));
    await saveRun(dir, fakeRun('other', '2025-01-03T00:00:00.000Z', [1, 2, 3], 1));
    expect(path.basename(first)).toBe('2025-01-01T00-00-00-000Z.json');
    expect(JSON.parse(await readFile(path.join(dir, LATEST), 'utf8'))).toMatchObject({ file: '2025-01-03T00-00-00-000Z.json', subject: 'other' });
    expect((await findPreviousRun(dir, 'other'))?.run.subject.name).toBe('other');
    expect((await findPreviousRun(dir, 'hello'))?.file).toBe(second); // latest.json points elsewhere: scan
    expect(await findPreviousRun(dir, 'nobody')).toBeUndefined();
    await writeFile(path.join(dir, '2025-01-04T00-00-00-000Z.json'), '{"half-written');
    expect((await findPreviousRun(dir, 'hello'))?.file).toBe(second);
  });
});
