/** The one object a bench run produces: saved under .wfn/bench/, printed by --json, drawn by --html. */
import type { MicroResult } from './micro.js';
import type { TargetResult } from './macro.js';
import type { RemoteResult } from './remote.js';
import type { Change, Unit } from './stats.js';

export const BENCH_SCHEMA = 'wfn-bench/1';

export interface BenchEnvironment {
  node: string;
  v8: string;
  platform: string;
  arch: string;
  cpus: number;
  cpuModel: string;
}

export interface BenchSubject {
  /** Function name (wfn.toml name, the .wasm's base name, or the first --url's host). */
  name: string;
  source: 'project' | 'wasm' | 'url';
  wasmPath?: string;
  bytes?: number;
  sha256?: string;
}

export interface BenchSettings {
  samples: number;
  warmup: number;
  /** Latency samples per local target, and requests per concurrency level. */
  requests: number;
  /** Sequential requests per --url. */
  urlRequests: number;
  concurrency: number[];
  targets: string[];
  path: string;
  urls: string[];
  everyMs: number;
  cacheBust: boolean;
}

export interface MetricChange extends Change {
  /** Stable id: micro.coldStart, target.dev.total, target.dev.throughput.c10, url.<url>.process. */
  metric: string;
  label: string;
  unit: Unit;
  /** p50 (or req/s for throughput) of the previous and of this run. */
  previous: number;
  current: number;
  /** "p50 +12.0 %, likely a regression". */
  message: string;
}

export interface Comparison {
  previous: { file: string; createdAt: string; sha256?: string; sameModule: boolean } | null;
  changes: MetricChange[];
}

export interface BenchResult {
  schema: typeof BENCH_SCHEMA;
  createdAt: string;
  wfnVersion: string;
  environment: BenchEnvironment;
  subject: BenchSubject;
  settings: BenchSettings;
  micro: MicroResult | null;
  targets: TargetResult[];
  remote: RemoteResult[];
  comparison: Comparison;
  /** Where this run was saved (absent with --no-save). */
  file?: string;
}
