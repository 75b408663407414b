import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { MIN_SAMPLES, runMicro, withUniqueCustomSection } from '../../src/bench/micro.js';
import { writeOnce } from '../fixtures/contract.js';
import { wat2wasm } from '../helpers/wat.js';

let dir: string;
const file = (name: string) => path.join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'wfn-bench-micro-'));
  await writeFile(file('ok.wasm'), await wat2wasm(writeOnce({ stdout: 'Content-Type: text/plain\n\nok' })));
  await writeFile(file('trap.wasm'), await wat2wasm(writeOnce({ stdout: 'Content-Type: text/plain\n\nok', then: 'trap' })));
});

const base = { memoryMiB: 16, env: {}, path: '/?a=1', warmup: 3 };

describe('in-process micro benchmarks', () => {
  it('samples compile, cold start, instantiate and run time of a conforming module', async () => {
    const r = await runMicro({ ...base, wasmPath: file('ok.wasm'), samples: 40 });
    expect(r.request).toEqual({ method: 'GET', path: '/?a=1', status: 200, outcome: 'ok' });
    expect(r.coldStart.n).toBe(40);
    expect(r.compile.n).toBe(30);
    for (const s of [r.compile, r.coldStart, r.instantiate, r.run]) {
      expect(s.unit).toBe('us');
      expect(s.min).toBeGreaterThan(0);
    }
    // the parts never exceed the whole, sample by sample
    r.coldStart.samples.forEach((total, i) => expect(r.instantiate.samples[i] + r.run.samples[i]).toBeLessThanOrEqual(total + 1e-6));
  });

  it('samples the in-process reference (an empty Instance of the same module) and prints the ratio', async () => {
    const r = await runMicro({ ...base, wasmPath: file('ok.wasm'), samples: 20 });
    expect(r.emptyInstance?.n).toBe(20);
    expect(r.emptyInstance!.min).toBeGreaterThan(0);
    const { renderTable } = await import('../../src/bench/table.js');
    const text = renderTable({ subject: { name: 'ok' }, environment: { node: 'v20', v8: '11', platform: 'linux', arch: 'x64', cpus: 2, cpuModel: 'cpu' }, micro: r, targets: [], remote: [], comparison: { changes: [] }, settings: { concurrency: [], everyMs: 0 } } as never);
    expect(text).toContain('reference: empty new WebAssembly.Instance');
    expect(text).toMatch(/cold start ÷ reference \(p50\)\s+\d+\.\d\dx/);
  });

  it('still measures (and says so) when the function traps', async () => {
    const r = await runMicro({ ...base, wasmPath: file('trap.wasm'), samples: 12 });
    expect(r.request).toMatchObject({ status: 500, outcome: 'trap' });
    expect(r.coldStart.n).toBe(12);
  });

  it('stops a phase at its time budget, never below the minimum sample count', async () => {
    const r = await runMicro({ ...base, wasmPath: file('ok.wasm'), samples: 500, budgetMs: 0 });
    expect(r.coldStart.n).toBe(MIN_SAMPLES);
    expect(r.compile.n).toBe(MIN_SAMPLES);
  });

  it('makes every compile sample a real compile: unique bytes, same module', async () => {
    const bytes = await wat2wasm(writeOnce({ stdout: 'x' }));
    const a = withUniqueCustomSection(bytes, 1);
    const b = withUniqueCustomSection(bytes, 2);
    expect(Buffer.compare(Buffer.from(a), Buffer.from(b))).not.toBe(0);
    for (const variant of [a, b]) {
      expect(WebAssembly.validate(variant)).toBe(true);
      const m = await WebAssembly.compile(variant);
      expect(WebAssembly.Module.exports(m)).toEqual(WebAssembly.Module.exports(await WebAssembly.compile(bytes)));
      expect(WebAssembly.Module.customSections(m, 'wfn-bench')).toHaveLength(1);
    }
  });
});
