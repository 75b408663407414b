/**
 * The statistics of `wfn bench`, on plain arrays of samples: percentiles, mean with a
 * t-based 95 % confidence interval, Criterion's outlier classes (Tukey fences), and the
 * comparison of two runs (bootstrap CI of the change in the median + a noise threshold).
 * Pure functions: the tests feed them synthetic samples.
 */

export type Unit = 'us' | 'ms' | 'rps';

export interface OutlierCounts {
  /** Below Q1 - 3 IQR. */
  lowSevere: number;
  /** Between Q1 - 3 IQR and Q1 - 1.5 IQR. */
  lowMild: number;
  /** Between Q3 + 1.5 IQR and Q3 + 3 IQR. */
  highMild: number;
  /** Above Q3 + 3 IQR. */
  highSevere: number;
}

export interface Summary {
  unit: Unit;
  n: number;
  min: number;
  max: number;
  mean: number;
  stddev: number;
  /** 95 % confidence interval of the mean (Student's t). */
  meanCi95: [number, number];
  p50: number;
  p90: number;
  p99: number;
  outliers: OutlierCounts;
  /** The measurements themselves, in the order taken (kept so the next run can be compared). */
  samples: number[];
}

const ascending = (a: number, b: number) => a - b;

/** The q-quantile (0..1) of sorted values, linear between closest ranks (numpy's default, R type 7). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

export function percentile(values: readonly number[], p: number): number {
  return quantileSorted([...values].sort(ascending), p / 100);
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return values.length === 0 ? NaN : sum / values.length;
}

/** Sample standard deviation (n - 1). */
export function stddev(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  let sum = 0;
  for (const v of values) sum += (v - m) ** 2;
  return Math.sqrt(sum / (values.length - 1));
}

// Two-sided 95 % critical values of Student's t for 1..30 degrees of freedom.
const T975 = [
  12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08,
  2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042,
];

/** t(0.975, df): the table up to 30, then the Cornish-Fisher expansion around z = 1.96 (error < 1e-4). */
export function tCritical95(df: number): number {
  if (df < 1) return NaN;
  if (df <= 30) return T975[Math.round(df) - 1];
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2) + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3);
}

/** mean ± t * s / sqrt(n). One sample gives a zero-width interval. */
export function meanConfidence95(values: readonly number[]): [number, number] {
  const m = mean(values);
  if (values.length < 2) return [m, m];
  const half = tCritical95(values.length - 1) * (stddev(values) / Math.sqrt(values.length));
  return [m - half, m + half];
}

export interface Fences {
  lowSevere: number;
  lowMild: number;
  highMild: number;
  highSevere: number;
}

/** Tukey's fences, as Criterion.rs classifies outliers: Q1/Q3 -+ 1.5 IQR (mild) and 3 IQR (severe). */
export function tukeyFences(values: readonly number[]): Fences {
  const sorted = [...values].sort(ascending);
  const q1 = quantileSorted(sorted, 0.25);
  const q3 = quantileSorted(sorted, 0.75);
  const iqr = q3 - q1;
  return { lowSevere: q1 - 3 * iqr, lowMild: q1 - 1.5 * iqr, highMild: q3 + 1.5 * iqr, highSevere: q3 + 3 * iqr };
}

export function classifyOutliers(values: readonly number[]): OutlierCounts {
  const f = tukeyFences(values);
  const counts: OutlierCounts = { lowSevere: 0, lowMild: 0, highMild: 0, highSevere: 0 };
  for (const v of values) {
    if (v < f.lowSevere) counts.lowSevere++;
    else if (v < f.lowMild) counts.lowMild++;
    else if (v > f.highSevere) counts.highSevere++;
    else if (v > f.highMild) counts.highMild++;
  }
  return counts;
}

export function outlierTotal(o: OutlierCounts): number {
  return o.lowSevere + o.lowMild + o.highMild + o.highSevere;
}

/** Everything the reports show about one metric. Throws on an empty sample (a caller bug). */
export function summarize(samples: readonly number[], unit: Unit): Summary {
  if (samples.length === 0) throw new Error('summarize: no samples');
  const sorted = [...samples].sort(ascending);
  return {
    unit,
    n: samples.length,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    mean: mean(samples),
    stddev: stddev(samples),
    meanCi95: meanConfidence95(samples),
    p50: quantileSorted(sorted, 0.5),
    p90: quantileSorted(sorted, 0.9),
    p99: quantileSorted(sorted, 0.99),
    outliers: classifyOutliers(samples),
    samples: [...samples],
  };
}

/** A small seeded PRNG (mulberry32), so a comparison gives the same verdict every time it is computed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function resampleMedian(values: readonly number[], random: () => number, scratch: Float64Array): number {
  const n = values.length;
  for (let i = 0; i < n; i++) scratch[i] = values[Math.floor(random() * n)];
  scratch.sort();
  return n % 2 === 1 ? scratch[(n - 1) / 2] : (scratch[n / 2 - 1] + scratch[n / 2]) / 2;
}

/**
 * 95 % bootstrap (percentile) confidence interval of the relative change of the median,
 * (median(current) / median(previous) - 1), resampling both runs independently.
 */
export function medianChangeCi95(previous: readonly number[], current: readonly number[], resamples = 1000, seed = 0x5eed): [number, number] {
  const random = seededRandom(seed);
  const prevScratch = new Float64Array(previous.length);
  const currScratch = new Float64Array(current.length);
  const changes = new Float64Array(resamples);
  for (let i = 0; i < resamples; i++) {
    const p = resampleMedian(previous, random, prevScratch);
    const c = resampleMedian(current, random, currScratch);
    changes[i] = p === 0 ? 0 : c / p - 1;
  }
  changes.sort();
  const sorted = Array.from(changes);
  return [quantileSorted(sorted, 0.025), quantileSorted(sorted, 0.975)];
}

export type Verdict = 'regression' | 'improvement' | 'noise';

export interface Change {
  /** Relative change of the p50, e.g. 0.12 for +12 %. */
  change: number;
  /** Its 95 % confidence interval (absent when there were no samples to resample). */
  ci95?: [number, number];
  verdict: Verdict;
  /** Why: 'not significant' (CI includes 0), 'within threshold' (CI inside +-threshold), 'significant', 'threshold' (no samples: point estimate vs threshold). */
  basis: 'not significant' | 'within threshold' | 'significant' | 'threshold';
}

/** Changes smaller than this are never called a regression (Criterion's noise threshold is 1 %; loopback HTTP on a shared machine needs more). */
export const NOISE_THRESHOLD = 0.05;
/** For single numbers (throughput), with no samples to test, only a change beyond this counts. */
export const SINGLE_VALUE_THRESHOLD = 0.1;

/**
 * The verdict for one metric, the way Criterion reports it: significant at 95 % (bootstrap
 * CI of the median's change excludes 0) and beyond the noise threshold -> regression or
 * improvement; otherwise noise. `higherIsBetter` flips the sign (throughput).
 */
export function compareSamples(previous: readonly number[], current: readonly number[], options: { higherIsBetter?: boolean; threshold?: number } = {}): Change {
  const threshold = options.threshold ?? NOISE_THRESHOLD;
  const prevMedian = percentile(previous, 50);
  const change = prevMedian === 0 ? 0 : percentile(current, 50) / prevMedian - 1;
  const ci95 = medianChangeCi95(previous, current);
  const worse = (c: number) => (options.higherIsBetter ? c < 0 : c > 0);
  if (ci95[0] <= 0 && ci95[1] >= 0) return { change, ci95, verdict: 'noise', basis: 'not significant' };
  if (ci95[0] >= -threshold && ci95[1] <= threshold) return { change, ci95, verdict: 'noise', basis: 'within threshold' };
  if (Math.abs(change) < threshold) return { change, ci95, verdict: 'noise', basis: 'within threshold' };
  return { change, ci95, verdict: worse(change) ? 'regression' : 'improvement', basis: 'significant' };
}

/** Two single numbers: only the threshold can decide. */
export function compareValues(previous: number, current: number, options: { higherIsBetter?: boolean; threshold?: number } = {}): Change {
  const threshold = options.threshold ?? SINGLE_VALUE_THRESHOLD;
  const change = previous === 0 ? 0 : current / previous - 1;
  if (Math.abs(change) < threshold) return { change, verdict: 'noise', basis: 'threshold' };
  const worse = options.higherIsBetter ? change < 0 : change > 0;
  return { change, verdict: worse ? 'regression' : 'improvement', basis: 'threshold' };
}

/** "p50 +12.0 %, likely a regression" (Criterion's wording, adapted). */
export function describeChange(c: Change, stat = 'p50'): string {
  const pct = `${c.change >= 0 ? '+' : '-'}${Math.abs(c.change * 100).toFixed(1)} %`;
  const verdict = {
    regression: 'likely a regression',
    improvement: 'improved',
    noise: c.basis === 'not significant' ? 'no change within noise' : 'change within noise threshold',
  }[c.verdict];
  return `${stat} ${pct}, ${verdict}`;
}

/**
 * A fixed-width histogram for the report. Values above `upTo` (e.g. the severe-outlier fence,
 * so one GC pause does not squash the distribution into one bar) are counted in `overflow`.
 */
export function histogram(values: readonly number[], options: { bins?: number; upTo?: number } = {}): { start: number; width: number; counts: number[]; overflow: number } {
  const sorted = [...values].sort(ascending);
  const min = sorted[0];
  const max = Math.min(sorted[sorted.length - 1], options.upTo ?? Infinity);
  const inside = sorted.filter((v) => v <= max);
  // Freedman-Diaconis bin width, bounded to a readable number of bars.
  const iqr = quantileSorted(inside, 0.75) - quantileSorted(inside, 0.25);
  const fd = iqr > 0 ? Math.ceil((max - min) / (2 * iqr / Math.cbrt(inside.length))) : 10;
  const bins = Math.max(1, Math.min(60, options.bins ?? Math.max(8, fd)));
  const width = max > min ? (max - min) / bins : 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of inside) counts[Math.min(bins - 1, Math.floor((v - min) / width))]++;
  return { start: min, width, counts, overflow: sorted.length - inside.length };
}
