/** A run against the previous one, metric by metric, with Criterion-style verdicts. */
import type { BenchResult, Comparison, MetricChange } from './result.js';
import { compareSamples, compareValues, describeChange, type Summary, type Unit } from './stats.js';

interface Metric {
  metric: string;
  label: string;
  unit: Unit;
  /** A sampled metric (compared by its p50, with a bootstrap CI)... */
  summary?: Summary;
  /** ...or a single number (req/s). */
  value?: number;
  higherIsBetter?: boolean;
}

/** Every comparable metric of a run, keyed by a stable id. */
export function metricsOf(run: BenchResult): Metric[] {
  const metrics: Metric[] = [];
  if (run.micro) {
    metrics.push({ metric: 'micro.compile', label: 'compile', unit: 'us', summary: run.micro.compile });
    metrics.push({ metric: 'micro.coldStart', label: 'cold start', unit: 'us', summary: run.micro.coldStart });
    metrics.push({ metric: 'micro.run', label: 'run time', unit: 'us', summary: run.micro.run });
  }
  for (const t of run.targets) {
    if (!t.available) continue;
    metrics.push({ metric: `target.${t.target}.ttfb`, label: `${t.target} time to first byte`, unit: 'ms', summary: t.latency.ttfb });
    metrics.push({ metric: `target.${t.target}.total`, label: `${t.target} total`, unit: 'ms', summary: t.latency.total });
    for (const tp of t.throughput) {
      metrics.push({ metric: `target.${t.target}.throughput.c${tp.concurrency}`, label: `${t.target} req/s at c=${tp.concurrency}`, unit: 'rps', value: tp.reqPerSec, higherIsBetter: true });
    }
  }
  for (const r of run.remote) {
    if (!r.summary) continue;
    metrics.push({ metric: `url.${r.url}.process`, label: `${r.url} process time`, unit: 'ms', summary: r.summary.process });
    metrics.push({ metric: `url.${r.url}.total`, label: `${r.url} total`, unit: 'ms', summary: r.summary.total });
  }
  return metrics;
}

function changeOf(prev: Metric, curr: Metric): MetricChange | undefined {
  const base = { metric: curr.metric, label: curr.label, unit: curr.unit };
  if (prev.summary && curr.summary && prev.summary.samples.length > 1 && curr.summary.samples.length > 1) {
    const c = compareSamples(prev.summary.samples, curr.summary.samples, { higherIsBetter: curr.higherIsBetter });
    return { ...base, ...c, previous: prev.summary.p50, current: curr.summary.p50, message: describeChange(c) };
  }
  const p = prev.value ?? prev.summary?.p50;
  const v = curr.value ?? curr.summary?.p50;
  if (p === undefined || v === undefined) return undefined;
  const c = compareValues(p, v, { higherIsBetter: curr.higherIsBetter });
  return { ...base, ...c, previous: p, current: v, message: describeChange(c, curr.unit === 'rps' ? 'req/s' : 'p50') };
}

export function compareRuns(previous: BenchResult | undefined, current: BenchResult, previousFile?: string): Comparison {
  if (!previous) return { previous: null, changes: [] };
  const before = new Map(metricsOf(previous).map((m) => [m.metric, m]));
  const changes: MetricChange[] = [];
  for (const m of metricsOf(current)) {
    const prev = before.get(m.metric);
    const change = prev && changeOf(prev, m);
    if (change) changes.push(change);
  }
  return {
    previous: {
      file: previousFile ?? '',
      createdAt: previous.createdAt,
      sha256: previous.subject.sha256,
      sameModule: previous.subject.sha256 === current.subject.sha256,
    },
    changes,
  };
}
