/**
 * `wfn bench` as a service: resolve the function, run the micro benchmarks, each local target,
 * the --url timings, then compare with the previous run and save. The command only renders.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Artifact, TargetAdapter } from '../target/types.js';
import { artifactFrom } from '../project/artifact.js';
import type { FunctionSource } from '../project/resolve.js';
import { UserError } from '../util/errors.js';
import { wfnVersion } from '../util/paths.js';
import { compareRuns } from './compare.js';
import { benchTarget, type TargetResult } from './macro.js';
import { runMicro, type MicroResult } from './micro.js';
import { benchUrls, type RemoteResult } from './remote.js';
import { BENCH_SCHEMA, type BenchEnvironment, type BenchResult, type BenchSettings, type BenchSubject } from './result.js';
import { benchDir, findPreviousRun, saveRun } from './store.js';

export interface BenchRequest {
  /** The function to run locally; absent for a --url-only run. */
  source?: FunctionSource;
  settings: BenchSettings;
  /** Save under <baseDir>/.wfn/bench/ and compare with the previous run there. */
  baseDir: string;
  save: boolean;
  progress(message: string): void;
  /** A local target's adapter, from the registry (the CLI passes loadAdapter). */
  loadAdapter(target: string): Promise<TargetAdapter>;
}

/** "1,10,50" -> [1, 10, 50]. */
export function parseConcurrency(text: string): number[] {
  if (text.trim() === '' || text.trim() === 'none') return [];
  const levels = text.split(',').map((s) => s.trim());
  const numbers = levels.map(Number);
  const bad = levels.filter((s, i) => !/^\d+$/.test(s) || numbers[i] < 1 || numbers[i] > 10_000);
  if (bad.length > 0) throw new UserError(`--concurrency ${text}: "${bad[0]}" is not a connection count.`, 'Pass comma-separated counts between 1 and 10000, e.g. --concurrency 1,10,50.');
  return [...new Set(numbers)];
}

/** "dev,cloudflare" -> ['dev', 'cloudflare']; "none" -> []. `known`: the local targets (dev and the registry's). */
export function parseTargets(text: string, known: readonly string[]): string[] {
  if (text.trim() === '' || text.trim() === 'none') return [];
  const names = [...new Set(text.split(',').map((s) => s.trim()).filter(Boolean))];
  const unknown = names.filter((n) => !known.includes(n));
  if (unknown.length > 0) throw new UserError(`Unknown target "${unknown[0]}".`, `Targets: ${known.join(', ')} (or none).`);
  return names;
}

export function benchEnvironment(): BenchEnvironment {
  const cpus = os.cpus();
  return { node: process.version, v8: process.versions.v8, platform: process.platform, arch: process.arch, cpus: cpus.length, cpuModel: cpus[0]?.model.trim() ?? 'unknown' };
}

async function subjectOf(source: FunctionSource | undefined, artifact: Artifact | undefined, urls: string[]): Promise<BenchSubject> {
  if (!source || !artifact) return { name: urls.length > 0 ? new URL(urls[0]).host : 'bench', source: 'url' };
  const bytes = await readFile(artifact.wasmPath);
  return {
    name: artifact.name,
    source: source.kind,
    wasmPath: artifact.wasmPath,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}

export async function runBench(request: BenchRequest): Promise<BenchResult> {
  const { settings, progress } = request;
  const createdAt = new Date().toISOString();
  const artifact = request.source ? await artifactFrom(request.source, { log: progress }) : undefined;
  const subject = await subjectOf(request.source, artifact, settings.urls);

  let micro: MicroResult | null = null;
  if (artifact) {
    progress(`micro: compile, cold start and run time of ${path.basename(artifact.wasmPath)} (${settings.warmup} warm-up, ${settings.samples} samples)`);
    micro = await runMicro({
      wasmPath: artifact.wasmPath,
      memoryMiB: artifact.limits.memoryMiB,
      env: artifact.env,
      path: settings.path,
      samples: settings.samples,
      warmup: settings.warmup,
    });
  }

  const targets: TargetResult[] = [];
  if (artifact) {
    for (const target of settings.targets) {
      progress(`${target}: starting the emulator`);
      const result = await benchTarget(target, artifact, { path: settings.path, requests: settings.requests, concurrency: settings.concurrency, progress, loadAdapter: request.loadAdapter });
      if (!result.available) progress(`${target}: unavailable: ${result.reason}`);
      targets.push(result);
    }
  }

  let remote: RemoteResult[] = [];
  if (settings.urls.length > 0) {
    const count = settings.urlRequests;
    progress(`--url: ${count} sequential request(s) per URL${settings.everyMs > 0 ? `, one every ${Math.round(settings.everyMs / 1000)} s` : ''}`);
    remote = await benchUrls(settings.urls, { count, everyMs: settings.everyMs, cacheBust: settings.cacheBust, progress });
  }

  const run: BenchResult = {
    schema: BENCH_SCHEMA,
    createdAt,
    wfnVersion: wfnVersion(),
    environment: benchEnvironment(),
    subject,
    settings,
    micro,
    targets,
    remote,
    comparison: { previous: null, changes: [] },
  };
  const dir = benchDir(request.baseDir);
  const previous = await findPreviousRun(dir, subject.name);
  run.comparison = compareRuns(previous?.run, run, previous?.file);
  if (request.save) run.file = await saveRun(dir, run);
  return run;
}
