/**
 * The self-contained HTML report of a bench run: inline CSS, inline SVG charts (svg.ts), no
 * network. A tiny script marks the page ready (and records any script error), which the
 * headless-browser test checks.
 */
import { formatBytes } from '../util/bytes.js';
import { formatDuration, formatPercent, formatRate, formatValue } from './format.js';
import type { BenchResult } from './result.js';
import { histogram, NOISE_THRESHOLD, tukeyFences, type Summary } from './stats.js';
import { describeOutliers } from './table.js';
import { divergingBarChart, escapeXml as esc, groupedBarChart, histogramChart, lineChart, PALETTE, stackedBarChart, targetColour, VERDICT_COLOURS } from './svg.js';

const CSS = `
:root{--bg:#f7f8fa;--card:#fff;--text:#1d2330;--muted:#5d6575;--line:#e3e6ec;--grid:#edf0f4;--accent:#0072B2;--band:rgba(138,143,152,.14)}
@media (prefers-color-scheme:dark){:root{--bg:#12151b;--card:#1a1e26;--text:#e6e9ef;--muted:#9aa3b2;--line:#2c323d;--grid:#252a33;--accent:#56B4E9;--band:rgba(160,165,175,.16)}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:980px;margin:0 auto;padding:32px 20px 56px}
header h1{font-size:28px;margin:0 0 4px;letter-spacing:-.01em}
header p{margin:0;color:var(--muted)}
h2{font-size:20px;margin:40px 0 6px}
h3{font-size:15px;margin:22px 0 6px;color:var(--muted);font-weight:600}
p.lead{margin:0 0 14px;color:var(--muted);max-width:72ch}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;margin:24px 0 8px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px}
.card .k{font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
.card .v{font-size:24px;font-weight:650;margin-top:2px;font-variant-numeric:tabular-nums}
.card .s{font-size:13px;color:var(--muted)}
figure{margin:12px 0 8px;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 12px 4px}
figcaption{font-size:13px;color:var(--muted);padding:4px 6px 8px}
svg.chart{width:100%;height:auto;display:block;color:var(--text)}
svg .tick,svg .legend,svg .category,svg .value,svg .note{fill:var(--muted)}
svg .category{fill:var(--text)}
svg .value{font-size:11px;font-variant-numeric:tabular-nums}
svg .axis-label{fill:var(--muted);font-size:12px;font-weight:600}
svg .grid{stroke:var(--grid);stroke-width:1}
svg .axis,svg .tick-mark{stroke:var(--muted);stroke-width:1}
svg .whisker{stroke:var(--text)}
svg .noise-band{fill:var(--band)}
svg .bar:hover,svg .dot:hover{opacity:.8}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);border-radius:10px;overflow:hidden;font-size:13.5px;margin:8px 0}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
th{font-weight:600;color:var(--muted);background:var(--bg)}
th:first-child,td:first-child{text-align:left}
tr:last-child td{border-bottom:0}
.wrap{white-space:normal;text-align:left}
.pill{display:inline-block;padding:1px 8px;border-radius:999px;font-size:12px;font-weight:600;color:#fff}
.muted{color:var(--muted)}
.warn{color:#b35c00}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--grid);padding:1px 5px;border-radius:4px}
footer{margin-top:48px;font-size:13px;color:var(--muted)}
`;

function table(headers: string[], rows: string[][]): string {
  return `<table><thead><tr>${headers.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function card(key: string, value: string, sub: string): string {
  return `<div class="card"><div class="k">${esc(key)}</div><div class="v">${esc(value)}</div><div class="s">${esc(sub)}</div></div>`;
}

function statRow(label: string, s: Summary): string[] {
  const half = (s.meanCi95[1] - s.meanCi95[0]) / 2;
  return [esc(label), formatDuration(s.p50, s.unit), formatDuration(s.p90, s.unit), formatDuration(s.p99, s.unit), `${formatDuration(s.mean, s.unit)} ± ${formatDuration(half, s.unit)}`, String(s.n), esc(describeOutliers(s.outliers, s.n))];
}

function microSection(run: BenchResult): string {
  const m = run.micro;
  if (!m) return '';
  const s = m.coldStart;
  const fences = tukeyFences(s.samples);
  const bins = histogram(s.samples, { upTo: s.outliers.highSevere > 0 ? fences.highSevere : undefined });
  const chart = histogramChart({
    title: 'Cold start: fresh instance + _start',
    unit: s.unit,
    bins,
    colour: PALETTE[0],
    markers: [
      { value: s.p50, label: `p50 ${formatDuration(s.p50, s.unit)}`, colour: '#D55E00' },
      { value: s.mean, label: `mean ${formatDuration(s.mean, s.unit)}`, colour: '#009E73', dash: '6 4' },
      { value: s.p99, label: `p99 ${formatDuration(s.p99, s.unit)}`, colour: '#CC79A7', dash: '2 3' },
    ].map((m) => (m.value > bins.start + bins.width * bins.counts.length ? { ...m, label: `${m.label} (off scale)` } : m)),
  });
  const status = m.request.status === 200 ? '' : ` <span class="warn">The function answered ${m.request.status} (${esc(m.request.outcome)}): these numbers measure an error path.</span>`;
  return `<section id="cold-start"><h2>Cold start, in-process</h2>
<p class="lead">Each sample creates a fresh WASI host and instance of the compiled module and runs <code>_start</code> for <code>${esc(m.request.method)} ${esc(m.request.path)}</code>, after ${run.settings.warmup} warm-up runs — the seed's definition of cold start (§5.5.1), measured on wfn's runtime (V8).${status}</p>
<figure>${chart}<figcaption>Distribution of ${s.n} cold starts. Outliers by Tukey's fences, as Criterion classifies them: ${esc(describeOutliers(s.outliers, s.n))}.</figcaption></figure>
${table(['', 'p50', 'p90', 'p99', 'mean ± 95 % CI', 'n', 'outliers'], [statRow('compile (WebAssembly.compile)', m.compile), statRow('cold start (instance + _start)', m.coldStart), statRow('of which: instantiate', m.instantiate), statRow('of which: _start (run time)', m.run)])}
</section>`;
}

function targetsSection(run: BenchResult): string {
  if (run.targets.length === 0) return '';
  const available = run.targets.filter((t) => t.available);
  const unavailable = run.targets.filter((t) => !t.available);
  let html = `<section id="targets"><h2>Local targets</h2>
<p class="lead">Each target's emulator runs the package that <code>wfn deploy</code> would upload. Latency: ${run.settings.requests} sequential requests, each on a fresh TCP connection, timed like curl (connect, time to first byte, total). Throughput: keep-alive connections at each concurrency level (autocannon).</p>`;
  if (available.length > 0) {
    const names = available.map((t) => t.target);
    html += `<figure>${groupedBarChart({
      title: 'Request latency per target',
      unit: 'ms',
      categories: names,
      yLabel: 'total request time',
      series: [
        { name: 'p50', colour: '#0072B2', values: available.map((t) => (t.available ? t.latency.total.p50 : null)) },
        { name: 'p99', colour: '#56B4E9', values: available.map((t) => (t.available ? t.latency.total.p99 : null)) },
      ],
    })}<figcaption>Total time of a request on a fresh loopback connection (curl's time_total), p50 and p99, after warm-up.</figcaption></figure>`;
    html += `<figure>${groupedBarChart({
      title: 'First request after start',
      unit: 'ms',
      categories: names,
      yLabel: 'first request',
      series: [{ name: 'first request: the target\'s own cold start', colour: '#E69F00', values: available.map((t) => (t.available ? t.firstRequest.total : null)) }],
    })}<figcaption>The first request after the emulator started, which pays for the target's lazy initialisation (worker start, module compile, handler init).</figcaption></figure>`;
    const levels = run.settings.concurrency;
    if (levels.length > 0) {
      html += `<figure>${lineChart({
        title: 'Throughput per concurrency',
        unit: 'rps',
        xValues: levels.map(String),
        xLabel: 'concurrent connections',
        yLabel: 'throughput',
        yFormat: formatRate,
        series: available.map((t, i) => ({ name: t.target, colour: targetColour(t.target, i), points: levels.map((c) => (t.available ? (t.throughput.find((x) => x.concurrency === c)?.reqPerSec ?? null) : null)) })),
      })}<figcaption>Requests per second at each concurrency level (at least ${run.settings.requests} requests per level).</figcaption></figure>`;
    }
    html += table(
      ['target', 'start', 'first request', 'connect p50', 'ttfb p50', 'total p50', 'total p99', ...levels.map((c) => `c=${c}`)],
      available.map((t) => {
        if (!t.available) return [];
        const errs = t.throughput.reduce((a, x) => a + x.errors + x.non2xx, 0);
        return [
          esc(t.target) + (errs > 0 ? ` <span class="warn" title="errors or non-2xx answers under load">(${errs} errors)</span>` : ''),
          formatDuration(t.startMs, 'ms'),
          formatDuration(t.firstRequest.total, 'ms'),
          formatDuration(t.latency.connect.p50, 'ms'),
          formatDuration(t.latency.ttfb.p50, 'ms'),
          formatDuration(t.latency.total.p50, 'ms'),
          formatDuration(t.latency.total.p99, 'ms'),
          ...levels.map((c) => {
            const x = t.throughput.find((tp) => tp.concurrency === c);
            return x ? formatRate(x.reqPerSec) : '–';
          }),
        ];
      }),
    );
  }
  if (unavailable.length > 0) {
    html += `<h3>Not measured here</h3>` + table(['target', 'reason'], unavailable.map((t) => [esc(t.target), `<span class="muted wrap">${esc(t.available ? '' : t.reason)}</span>`]));
  }
  return html + '</section>';
}

/** "https://fn.example.com/api?x=1" -> "fn.example.com/api?x=1" (what tells two URLs apart, short). */
export function shortUrl(url: string): string {
  const u = new URL(url);
  const rest = (u.pathname === '/' ? '' : u.pathname) + u.search;
  const text = u.host + rest;
  return text.length > 30 ? text.slice(0, 29) + '…' : text;
}

function remoteSection(run: BenchResult): string {
  if (run.remote.length === 0) return '';
  const withData = run.remote.filter((r) => r.summary);
  const phases = [
    { name: 'DNS', colour: '#56B4E9' },
    { name: 'TCP connect', colour: '#0072B2' },
    { name: 'TLS', colour: '#CC79A7' },
    { name: 'server (to first byte)', colour: '#E69F00' },
    { name: 'download', colour: '#009E73' },
  ];
  let html = `<section id="deployed"><h2>Deployed functions</h2>
<p class="lead">Sequential requests on fresh connections${run.settings.everyMs > 0 ? `, one every ${esc(formatDuration(run.settings.everyMs, 'ms'))} (spaced so each request can meet a cold start, as the seed did)` : ''}. Process time is the seed's formula (§5.5.3): <code>time_starttransfer − (time_connect − time_namelookup)</code>.</p>`;
  if (withData.length > 0) {
    html += `<figure>${stackedBarChart({
      title: 'Where a request spends its time (medians)',
      unit: 'ms',
      phases,
      xLabel: 'time since the request started',
      rows: withData.map((r) => {
        const s = r.summary!;
        return { label: shortUrl(r.url), segments: [s.namelookup.p50, s.connect.p50 - s.namelookup.p50, s.appconnect.p50 - s.connect.p50, s.ttfb.p50 - s.appconnect.p50, s.total.p50 - s.ttfb.p50] };
      }),
    })}<figcaption>curl's phases (the seed's Figure 5.5), median of each cumulative time, per URL.</figcaption></figure>`;
    const count = withData.reduce((m, r) => Math.max(m, r.requests.length), 0);
    html += `<figure>${lineChart({
      title: 'Process time per request',
      unit: 'ms',
      xValues: Array.from({ length: count }, (_, i) => String(i + 1)),
      xLabel: 'request',
      yLabel: 'process time',
      series: withData.map((r, i) => ({ name: shortUrl(r.url), colour: PALETTE[i % PALETTE.length], points: Array.from({ length: count }, (_, k) => r.requests[k]?.process ?? null) })),
    })}<figcaption>Each request's process time in order: with spacing, cold starts show as peaks.</figcaption></figure>`;
  }
  html += table(
    ['url', 'n', 'dns p50', 'connect p50', 'tls p50', 'ttfb p50', 'total p50', 'process p50', 'process p99', 'failed'],
    run.remote.map((r) => {
      const s = r.summary;
      const d = (x: Summary | undefined, p: 'p50' | 'p99' = 'p50') => (x ? formatDuration(x[p], 'ms') : '–');
      return [esc(r.url), String(r.requests.length), d(s?.namelookup), d(s?.connect), d(s?.appconnect), d(s?.ttfb), d(s?.total), d(s?.process), d(s?.process, 'p99'), r.failures.length > 0 ? `<span class="warn" title="${esc(r.failures[0].reason)}">${r.failures.length}</span>` : '0'];
    }),
  );
  return html + '</section>';
}

function comparisonSection(run: BenchResult): string {
  const { previous, changes } = run.comparison;
  if (!previous) return `<section id="comparison"><h2>Compared with the previous run</h2><p class="lead">No previous run of <code>${esc(run.subject.name)}</code> in this folder: this run is the baseline. Run <code>wfn bench</code> again after a change to see the difference.</p></section>`;
  const chart = divergingBarChart({
    title: 'Change since the previous run',
    threshold: NOISE_THRESHOLD,
    rows: changes.map((c) => ({ label: c.label, change: c.change, ci: c.ci95, verdict: c.verdict, tooltip: `${c.label}: ${c.message}` })),
  });
  const rows = changes.map((c) => [
    esc(c.label),
    formatValue(c.previous, c.unit),
    formatValue(c.current, c.unit),
    formatPercent(c.change),
    c.ci95 ? `${formatPercent(c.ci95[0])} … ${formatPercent(c.ci95[1])}` : '<span class="muted">single value</span>',
    `<span class="pill" style="background:${VERDICT_COLOURS[c.verdict]}">${esc(c.verdict === 'noise' ? 'no change' : c.verdict)}</span>`,
  ]);
  return `<section id="comparison"><h2>Compared with the previous run</h2>
<p class="lead">Against the run of ${esc(previous.createdAt)}${previous.sameModule ? ' (same module bytes)' : ' (the module changed)'}. A change is called a regression or an improvement only when the 95 % bootstrap confidence interval of the p50's change excludes zero and the change exceeds the ±${NOISE_THRESHOLD * 100} % noise band (shaded); throughput, a single number per level, needs ±10 %.</p>
${changes.length > 0 ? `<figure>${chart}<figcaption>Bars: change of the p50 (req/s for throughput); whiskers: 95 % confidence interval.</figcaption></figure>` : ''}
${table(['metric', 'previous', 'now', 'change', '95 % CI', 'verdict'], rows)}
</section>`;
}

function cards(run: BenchResult): string {
  const items: string[] = [];
  if (run.micro) {
    items.push(card('cold start p50', formatDuration(run.micro.coldStart.p50, 'us'), `p99 ${formatDuration(run.micro.coldStart.p99, 'us')}`));
    items.push(card('compile p50', formatDuration(run.micro.compile.p50, 'us'), 'once per module'));
  }
  const available = run.targets.filter((t) => t.available);
  for (const t of available.slice(0, 3)) {
    if (!t.available) continue;
    const best = Math.max(0, ...t.throughput.map((x) => x.reqPerSec));
    items.push(card(`${t.target} request p50`, formatDuration(t.latency.total.p50, 'ms'), best > 0 ? `up to ${formatRate(best)}` : `p99 ${formatDuration(t.latency.total.p99, 'ms')}`));
  }
  const regressions = run.comparison.changes.filter((c) => c.verdict === 'regression').length;
  if (run.comparison.previous) items.push(card('vs previous run', regressions === 0 ? 'no regression' : `${regressions} regression${regressions === 1 ? '' : 's'}`, `${run.comparison.changes.filter((c) => c.verdict === 'improvement').length} improved`));
  return items.length > 0 ? `<div class="cards">${items.join('')}</div>` : '';
}

export function renderHtml(run: BenchResult): string {
  const s = run.subject;
  const e = run.environment;
  const facts = [s.wasmPath ? `<code>${esc(s.wasmPath)}</code>` : '', s.bytes !== undefined ? formatBytes(s.bytes) : '', s.sha256 ? `sha256 ${s.sha256.slice(0, 12)}` : ''].filter(Boolean).join(' · ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>wfn bench · ${esc(s.name)}</title>
<script>window.addEventListener('error',function(e){document.documentElement.setAttribute('data-error',String(e.message||e));});</script>
<style>${CSS}</style>
</head>
<body>
<main>
<header><h1>wfn bench · ${esc(s.name)}</h1>
<p>${esc(run.createdAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}${facts ? ' · ' + facts : ''}</p>
<p>node ${esc(e.node)} (V8 ${esc(e.v8)}) · ${esc(e.platform)} ${esc(e.arch)} · ${e.cpus} × ${esc(e.cpuModel)} · wfn ${esc(run.wfnVersion)}</p></header>
${cards(run)}
${microSection(run)}
${targetsSection(run)}
${remoteSection(run)}
${comparisonSection(run)}
<footer>How to read each figure, and how it maps to the seed thesis's tables: <code>docs/bench.md</code>. Raw data: ${run.file ? `<code>${esc(run.file)}</code>` : 'run with <code>--json</code>'}.</footer>
</main>
<script>
// For tools (and wfn's own test): how many charts the browser actually laid out with visible shapes.
(function(){var n=0;document.querySelectorAll('svg.chart').forEach(function(svg){var r=svg.getBoundingClientRect();var shapes=Array.prototype.filter.call(svg.querySelectorAll('rect,path,circle,line'),function(s){var b=s.getBBox();return b.width>0||b.height>0;});if(r.width>0&&r.height>0&&shapes.length>0)n++;});
document.documentElement.setAttribute('data-charts',String(n));document.documentElement.setAttribute('data-ready','1');})();
</script>
</body>
</html>
`;
}
