/** The terminal rendering of a bench run. Colour comes from src/util/style.ts (TTY only, never with NO_COLOR). */
import path from 'node:path';
import { style } from '../util/style.js';
import { formatBytes } from '../util/bytes.js';
import { formatDuration, formatPercent, formatRate, formatValue } from './format.js';
import type { BenchResult, MetricChange } from './result.js';
import { outlierTotal, type OutlierCounts, type Summary } from './stats.js';

type Chalk = typeof style;

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
const width = (text: string) => text.replace(ANSI, '').length;

/** Left-aligned first column, right-aligned numbers, two spaces between columns. */
export function alignColumns(rows: string[][], indent = '  ', leftColumns = 1): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, width(cell))));
  return rows.map((row) =>
    (
      indent +
      row
        .map((cell, i) => {
          const pad = ' '.repeat(widths[i] - width(cell));
          return i < leftColumns ? cell + pad : pad + cell;
        })
        .join('  ')
    ).trimEnd(),
  );
}

export function describeOutliers(o: OutlierCounts, n: number): string {
  const total = outlierTotal(o);
  if (total === 0) return 'none';
  const parts = [
    [o.lowSevere, 'low severe'],
    [o.lowMild, 'low mild'],
    [o.highMild, 'high mild'],
    [o.highSevere, 'high severe'],
  ]
    .filter(([count]) => (count as number) > 0)
    .map(([count, name]) => `${count} ${name}`);
  return `${total} (${((total / n) * 100).toFixed(1)} %): ${parts.join(', ')}`;
}

function meanWithCi(s: Summary): string {
  return `${formatDuration(s.mean, s.unit)} ± ${formatDuration((s.meanCi95[1] - s.meanCi95[0]) / 2, s.unit)}`;
}

function verdictColour(c: MetricChange, chalk: Chalk): (text: string) => string {
  if (c.verdict === 'regression') return chalk.red;
  if (c.verdict === 'improvement') return chalk.green;
  return chalk.dim;
}

export function renderComparison(run: BenchResult, chalk: Chalk = style): string[] {
  const { previous, changes } = run.comparison;
  if (!previous) return [chalk.dim('No previous run to compare with: this one is the baseline.')];
  const when = previous.createdAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const lines = [chalk.bold(`Compared with the run of ${when}`) + chalk.dim(previous.sameModule ? ' (same module)' : ' (the module changed)')];
  const rows = changes.map((c) => {
    const colour = verdictColour(c, chalk);
    const ci = c.ci95 ? chalk.dim(`95 % CI ${formatPercent(c.ci95[0])} … ${formatPercent(c.ci95[1])}`) : chalk.dim('single value, ±10 % threshold');
    return [c.label, `${formatValue(c.previous, c.unit)} → ${formatValue(c.current, c.unit)}`, colour(c.message), ci];
  });
  lines.push(...alignColumns(rows, '  ', 4));
  return lines;
}

export function renderTable(run: BenchResult, chalk: Chalk = style): string {
  const out: string[] = [];
  const s = run.subject;
  const where = s.wasmPath ? path.relative(process.cwd(), s.wasmPath) || s.wasmPath : '';
  const head = [`wfn bench · ${s.name}`, where, s.bytes !== undefined ? formatBytes(s.bytes) : '', s.sha256 ? `sha256 ${s.sha256.slice(0, 12)}` : ''].filter(Boolean);
  out.push(chalk.bold(head[0]) + chalk.dim(head.length > 1 ? ' · ' + head.slice(1).join(' · ') : ''));
  const e = run.environment;
  out.push(chalk.dim(`node ${e.node} (V8 ${e.v8}) · ${e.platform} ${e.arch} · ${e.cpus} × ${e.cpuModel}`));

  const m = run.micro;
  if (m) {
    out.push('');
    const status = m.request.status === 200 ? `status ${m.request.status}` : chalk.yellow(`status ${m.request.status} (${m.request.outcome}): this measures an error path`);
    out.push(chalk.bold('In-process') + chalk.dim(` · wfn runtime on V8 · ${m.request.method} ${m.request.path} · `) + status);
    const rows = [
      ['', 'p50', 'p90', 'p99', 'mean ± 95 % CI', 'n', 'outliers (Tukey)'].map((h) => chalk.dim(h)),
      ...(
        [
          ['compile', m.compile],
          ['cold start (instance + _start)', m.coldStart],
          ['  of which instantiate', m.instantiate],
          ['  of which _start (run time)', m.run],
        ] as [string, Summary][]
      ).map(([label, x]) => [label, formatDuration(x.p50, x.unit), formatDuration(x.p90, x.unit), formatDuration(x.p99, x.unit), meanWithCi(x), String(x.n), describeOutliers(x.outliers, x.n)]),
    ];
    if (m.emptyInstance) {
      const x = m.emptyInstance;
      rows.push(['reference: empty new WebAssembly.Instance', formatDuration(x.p50, x.unit), formatDuration(x.p90, x.unit), formatDuration(x.p99, x.unit), meanWithCi(x), String(x.n), describeOutliers(x.outliers, x.n)]);
      rows.push([chalk.dim('cold start ÷ reference (p50)'), `${(m.coldStart.p50 / Math.max(x.p50, 0.001)).toFixed(2)}x`, '', '', '', '', '']);
    }
    out.push(...alignColumns(rows));
  }

  if (run.targets.length > 0) {
    out.push('');
    out.push(chalk.bold('Local targets') + chalk.dim(` · ${run.settings.requests} requests, each on a fresh connection · then throughput (keep-alive) per concurrency`));
    const levels = run.settings.concurrency;
    const header = ['target', 'start', 'first req', 'connect p50', 'ttfb p50', 'total p50', 'total p99', ...levels.map((c) => `c=${c}`)];
    const rows: string[][] = [header.map((h) => chalk.dim(h))];
    const unavailable: string[] = [];
    for (const t of run.targets) {
      if (!t.available) {
        unavailable.push(`  ${t.target}: ${chalk.yellow('unavailable')} ${chalk.dim(t.reason)}`);
        continue;
      }
      const l = t.latency;
      const bad = Object.keys(t.statuses).filter((k) => !k.startsWith('2'));
      rows.push([
        bad.length > 0 ? `${t.target} ${chalk.yellow(`(status ${bad.join(',')})`)}` : t.target,
        formatDuration(t.startMs, 'ms'),
        formatDuration(t.firstRequest.total, 'ms'),
        formatDuration(l.connect.p50, 'ms'),
        formatDuration(l.ttfb.p50, 'ms'),
        formatDuration(l.total.p50, 'ms'),
        formatDuration(l.total.p99, 'ms'),
        ...levels.map((c) => {
          const tp = t.throughput.find((x) => x.concurrency === c);
          return tp ? formatRate(tp.reqPerSec) + (tp.errors + tp.non2xx > 0 ? chalk.yellow('*') : '') : '–';
        }),
      ]);
    }
    if (rows.length > 1) out.push(...alignColumns(rows));
    out.push(...unavailable);
  }

  if (run.remote.length > 0) {
    out.push('');
    const spacing = run.settings.everyMs > 0 ? `, one every ${formatDuration(run.settings.everyMs, 'ms')}` : '';
    out.push(chalk.bold('Deployed (--url)') + chalk.dim(` · sequential, fresh connection each${spacing} · process = ttfb − (connect − namelookup), as the seed`));
    const rows = [['url', 'n', 'dns p50', 'connect p50', 'tls p50', 'ttfb p50', 'total p50', 'process p50', 'process p99', 'failed'].map((h) => chalk.dim(h))];
    for (const r of run.remote) {
      const x = r.summary;
      const f = (v: Summary | undefined, p: 'p50' | 'p99' = 'p50') => (v ? formatDuration(v[p], 'ms') : '–');
      rows.push([r.url, String(r.requests.length), f(x?.namelookup), f(x?.connect), f(x?.appconnect), f(x?.ttfb), f(x?.total), f(x?.process), f(x?.process, 'p99'), r.failures.length > 0 ? chalk.red(String(r.failures.length)) : '0']);
    }
    out.push(...alignColumns(rows));
    for (const r of run.remote) if (r.failures.length > 0) out.push(chalk.dim(`  ${r.url}: ${r.failures[r.failures.length - 1].reason}`));
  }

  out.push('');
  out.push(...renderComparison(run, chalk));
  if (run.file) out.push(chalk.dim(`Saved ${path.relative(process.cwd(), run.file) || run.file}`));
  return out.join('\n');
}
