// The serve benchmarks `npm run bench` uses, run very briefly: they work and report sane numbers.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchServe, soakServe } from '../../src/bench/serve.js';
import { builtCli, tempDir, textFunction } from '../server/serve/helpers.js';

describe('serve benchmarks (short runs)', () => {
  it('benchServe compares serve, bare node:http and compile-per-request; soakServe samples RSS', async () => {
    builtCli(); // the targets run from lib/
    const wasm = path.join(await tempDir('bench'), 'hello.wasm');
    await writeFile(wasm, await textFunction('hello bench'));
    const report = await benchServe(wasm, { durationS: 1, warmupS: 0, connections: 4 });
    for (const run of [report.serve, report.bare, report.seed, report.seedOptimizing]) {
      expect(run.requests).toBeGreaterThan(0);
      expect(run.errors + run.timeouts + run.non2xx).toBe(0);
      expect(run.p99Ms).toBeGreaterThanOrEqual(run.p50Ms);
    }
    // The ratios are the quotients of the figures measured side by side (as rounded).
    expect(report.ratioToBare).toBeCloseTo(report.serve.reqPerSec / report.bare.reqPerSec, 1);
    expect(report.speedupOverSeed).toBeCloseTo(report.serve.reqPerSec / report.seed.reqPerSec, 0);
    expect(report.speedupOverSeedOptimizing).toBeCloseTo(report.serve.reqPerSec / report.seedOptimizing.reqPerSec, 0);
    // Every run served the one-second load it was given (not a leftover figure), all 200s.
    for (const run of [report.serve, report.bare, report.seed, report.seedOptimizing]) {
      expect(run.ok).toBe(run.requests);
      const perSecond = run.requests / run.durationS;
      expect(run.reqPerSec).toBeGreaterThan(perSecond / 2);
      expect(run.reqPerSec).toBeLessThan(perSecond * 2);
    }
    expect(report.instantiateP50Us).toBeGreaterThan(0);
    expect(report.instantiateP99Us).toBeGreaterThanOrEqual(report.instantiateP50Us);

    const soak = await soakServe(wasm, { durationS: 2, sampleEveryS: 1, connections: 4 });
    expect(soak.requests).toBeGreaterThan(0);
    expect(soak.errors + soak.non2xx).toBe(0);
    expect(soak.samples.length).toBeGreaterThanOrEqual(2);
    expect(soak.samples.length).toBeLessThanOrEqual(4);
    expect(soak.rssStartMiB).toBeGreaterThan(10);
    expect(soak.rssStartMiB).toBeLessThan(4096);
  });
});
