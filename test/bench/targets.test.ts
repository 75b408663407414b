import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Artifact } from '../../src/target/types.js';
import { loadAdapter } from '../../adapters/index.js';
import { benchTarget } from '../../src/bench/macro.js';
import { writeOnce } from '../fixtures/contract.js';
import { wat2wasm } from '../helpers/wat.js';

const artifact = (wasmPath: string): Artifact => ({ name: 'bench-t', wasmPath, env: {}, secrets: [], limits: { memoryMiB: 16, timeoutMs: 5000 } });
const options = { path: '/', requests: 12, concurrency: [2], progress: () => {}, loadAdapter };

describe('a local target', () => {
  it('is measured on its emulator: first request, fresh-connection latency, throughput', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wfn-bench-targets-'));
    const wasm = path.join(dir, 'ok.wasm');
    await writeFile(wasm, await wat2wasm(writeOnce({ stdout: 'Content-Type: text/plain\n\nok' })));
    const r = await benchTarget('dev', artifact(wasm), options);
    if (!r.available) throw new Error(r.reason);
    expect(r.firstRequest.status).toBe(200);
    expect(r.statuses).toEqual({ 200: 12 });
    expect(r.latency.total.n).toBe(12);
    expect(r.throughput).toHaveLength(1);
    expect(r.throughput[0]).toMatchObject({ concurrency: 2, errors: 0, non2xx: 0 });
    expect(r.throughput[0].requests).toBeGreaterThanOrEqual(20); // at least 10 per connection
  });

  it('that cannot start is reported unavailable with the reason, not thrown', async () => {
    const missing = path.join(tmpdir(), 'wfn-bench-no-such-file.wasm');
    for (const target of ['dev', 'cloudflare']) {
      const r = await benchTarget(target, artifact(missing), options);
      expect(r.available).toBe(false);
      if (!r.available) expect(r.reason.length).toBeGreaterThan(0);
    }
  });
});
