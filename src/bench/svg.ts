/**
 * Small inline-SVG charts for the HTML report, drawn by hand (no library, no network):
 * histogram, grouped bars, lines, diverging bars, stacked bars. Colours and fonts come from
 * the report's CSS variables (classes below), so light and dark schemes both work.
 */
import type { Unit } from './stats.js';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Okabe-Ito: distinguishable with the common colour-vision deficiencies. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];

const TARGET_COLOURS: Record<string, string> = { dev: '#0072B2', 'self-hosted': '#56B4E9', cloudflare: '#E69F00', lambda: '#009E73', fastly: '#CC79A7' };
export function targetColour(target: string, index: number): string {
  return TARGET_COLOURS[target] ?? PALETTE[index % PALETTE.length];
}

/** Round numbers for axis ticks covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) max = min + (min === 0 ? 1 : Math.abs(min));
  const rough = (max - min) / count;
  const pow = 10 ** Math.floor(Math.log10(rough));
  const f = rough / pow;
  const step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * pow;
  const ticks: number[] = [];
  for (let v = Math.floor(min / step) * step; v <= max + step * 0.5 - 1e-12; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

/** The display unit for an axis whose largest value is `max` (in `unit`): µs, ms or s. */
export function axisUnit(max: number, unit: Unit): { factor: number; label: string } {
  if (unit === 'rps') return { factor: 1, label: 'req/s' };
  const us = unit === 'ms' ? max * 1000 : max;
  const toUs = unit === 'ms' ? 1000 : 1;
  if (us < 1000) return { factor: toUs, label: 'µs' };
  if (us < 1_000_000) return { factor: toUs / 1000, label: 'ms' };
  return { factor: toUs / 1_000_000, label: 's' };
}

export function tickLabel(v: number): string {
  if (v === 0) return '0';
  const abs = Math.abs(v);
  if (abs >= 10_000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

const f = (n: number) => (Math.round(n * 10) / 10).toString();

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function svgOpen(frame: Frame, title: string, description: string): string {
  return `<svg class="chart" viewBox="0 0 ${frame.width} ${frame.height}" role="img" aria-label="${escapeXml(title)}" xmlns="http://www.w3.org/2000/svg" font-size="12"><title>${escapeXml(title)}</title><desc>${escapeXml(description)}</desc>`;
}

function legend(items: { label: string; colour: string; dash?: string; kind?: 'box' | 'line' }[], x: number, y: number): string {
  let at = x;
  const parts: string[] = [];
  for (const item of items) {
    const swatch =
      item.kind === 'line'
        ? `<line x1="${f(at)}" y1="${f(y)}" x2="${f(at + 18)}" y2="${f(y)}" stroke="${item.colour}" stroke-width="2.5"${item.dash ? ` stroke-dasharray="${item.dash}"` : ''}/>`
        : `<rect x="${f(at)}" y="${f(y - 6)}" width="12" height="12" rx="2" fill="${item.colour}"/>`;
    const textX = at + (item.kind === 'line' ? 24 : 17);
    parts.push(`<g class="legend-item">${swatch}<text class="legend" x="${f(textX)}" y="${f(y + 4)}">${escapeXml(item.label)}</text></g>`);
    at = textX + item.label.length * 6.6 + 18;
  }
  return `<g class="legend">${parts.join('')}</g>`;
}

function yAxis(frame: Frame, ticks: number[], scale: (v: number) => number, label: string, format: (v: number) => string = tickLabel): string {
  const parts = ticks.map((t) => {
    const y = scale(t);
    return `<line class="grid" x1="${frame.left}" x2="${frame.width - frame.right}" y1="${f(y)}" y2="${f(y)}"/><text class="tick" x="${frame.left - 8}" y="${f(y + 4)}" text-anchor="end">${escapeXml(format(t))}</text>`;
  });
  const midY = (frame.top + frame.height - frame.bottom) / 2;
  parts.push(`<text class="axis-label" transform="translate(14 ${f(midY)}) rotate(-90)" text-anchor="middle">${escapeXml(label)}</text>`);
  return `<g class="y-axis">${parts.join('')}</g>`;
}

function baseline(frame: Frame): string {
  const y = frame.height - frame.bottom;
  return `<line class="axis" x1="${frame.left}" x2="${frame.width - frame.right}" y1="${y}" y2="${y}"/>`;
}

export interface Marker {
  value: number;
  label: string;
  colour: string;
  dash?: string;
}

/** A distribution: bars of counts, with markers (p50, mean, p99) as vertical lines. */
export function histogramChart(options: {
  title: string;
  unit: Unit;
  bins: { start: number; width: number; counts: number[]; overflow: number };
  markers: Marker[];
  colour?: string;
}): string {
  const frame: Frame = { width: 720, height: 320, left: 62, right: 20, top: 40, bottom: 52 };
  const { bins } = options;
  const end = bins.start + bins.width * bins.counts.length;
  const display = axisUnit(end, options.unit);
  const xTicks = niceTicks(bins.start * display.factor, end * display.factor, 7).filter((t) => t >= bins.start * display.factor - 1e-9 && t <= end * display.factor + 1e-9);
  const plotW = frame.width - frame.left - frame.right;
  const plotH = frame.height - frame.top - frame.bottom;
  const x = (v: number) => frame.left + ((v - bins.start) / (end - bins.start || 1)) * plotW;
  const maxCount = bins.counts.reduce((m, c) => Math.max(m, c), 1);
  const yTicks = niceTicks(0, maxCount, 4).filter((t) => Number.isInteger(t));
  const yMax = yTicks[yTicks.length - 1];
  const y = (c: number) => frame.top + plotH - (c / yMax) * plotH;
  const bars = bins.counts
    .map((count, i) => {
      const x0 = x(bins.start + i * bins.width);
      const w = Math.max(1, (plotW / bins.counts.length) - 1);
      const from = (bins.start + i * bins.width) * display.factor;
      const to = (bins.start + (i + 1) * bins.width) * display.factor;
      return `<rect class="bar" x="${f(x0 + 0.5)}" y="${f(y(count))}" width="${f(w)}" height="${f(y(0) - y(count))}" fill="${options.colour ?? PALETTE[0]}"><title>${tickLabel(from)}–${tickLabel(to)} ${display.label}: ${count}</title></rect>`;
    })
    .join('');
  const xAxis = xTicks
    .map((t) => `<line class="tick-mark" x1="${f(x(t / display.factor))}" x2="${f(x(t / display.factor))}" y1="${frame.height - frame.bottom}" y2="${frame.height - frame.bottom + 5}"/><text class="tick" x="${f(x(t / display.factor))}" y="${frame.height - frame.bottom + 18}" text-anchor="middle">${tickLabel(t)}</text>`)
    .join('');
  const markers = options.markers
    .filter((m) => m.value >= bins.start && m.value <= end)
    .map((m) => `<line x1="${f(x(m.value))}" x2="${f(x(m.value))}" y1="${frame.top - 4}" y2="${frame.height - frame.bottom}" stroke="${m.colour}" stroke-width="2"${m.dash ? ` stroke-dasharray="${m.dash}"` : ''}><title>${escapeXml(m.label)}</title></line>`)
    .join('');
  const overflow = bins.overflow > 0 ? `<text class="note" x="${frame.width - frame.right - 4}" y="${frame.top + 14}" text-anchor="end">+${bins.overflow} severe outlier${bins.overflow === 1 ? '' : 's'} beyond ${tickLabel(end * display.factor)} ${display.label} not drawn</text>` : '';
  return (
    svgOpen(frame, options.title, `Histogram of ${bins.counts.reduce((a, b) => a + b, 0)} samples`) +
    yAxis(frame, yTicks, y, 'samples') +
    bars +
    baseline(frame) +
    xAxis +
    `<text class="axis-label" x="${f(frame.left + plotW / 2)}" y="${frame.height - 10}" text-anchor="middle">${escapeXml(options.title)} (${display.label})</text>` +
    markers +
    legend(options.markers.map((m) => ({ label: m.label, colour: m.colour, dash: m.dash, kind: 'line' })), frame.left, 16) +
    overflow +
    '</svg>'
  );
}

export interface BarSeries {
  name: string;
  colour: string;
  values: (number | null)[];
}

/** The value axis every chart shares: unit choice, round ticks from 0, plot size, and y(). */
function valueAxis(frame: Frame, max: number, unit: Unit, tickCount: number) {
  const display = axisUnit(max, unit);
  const ticks = niceTicks(0, max * display.factor || 1, tickCount);
  const top = ticks[ticks.length - 1];
  const plotW = frame.width - frame.left - frame.right;
  const plotH = frame.height - frame.top - frame.bottom;
  const y = (v: number) => frame.top + plotH - (v / top) * plotH;
  return { display, ticks, top, plotW, plotH, y };
}

/** Grouped vertical bars: one group per category, one bar per series, values printed on top. */
export function groupedBarChart(options: { title: string; unit: Unit; categories: string[]; series: BarSeries[]; yLabel: string }): string {
  const frame: Frame = { width: 720, height: 340, left: 66, right: 20, top: 44, bottom: 48 };
  const all = options.series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const max = all.reduce((m, v) => Math.max(m, v), 0);
  const { display, ticks, plotW, y } = valueAxis(frame, max, options.unit, 5);
  const groupW = plotW / Math.max(1, options.categories.length);
  const barW = Math.min(56, (groupW * 0.7) / Math.max(1, options.series.length));
  const parts: string[] = [];
  options.categories.forEach((category, ci) => {
    const groupX = frame.left + ci * groupW + (groupW - barW * options.series.length) / 2;
    options.series.forEach((s, si) => {
      const v = s.values[ci];
      if (v === null || v === undefined) return;
      const scaled = v * display.factor;
      const bx = groupX + si * barW;
      parts.push(`<rect class="bar" x="${f(bx + 1)}" y="${f(y(scaled))}" width="${f(barW - 2)}" height="${f(Math.max(0.5, y(0) - y(scaled)))}" rx="2" fill="${s.colour}"><title>${escapeXml(`${category} ${s.name}: ${tickLabel(scaled)} ${display.label}`)}</title></rect>`);
      parts.push(`<text class="value" x="${f(bx + barW / 2)}" y="${f(y(scaled) - 5)}" text-anchor="middle">${tickLabel(scaled)}</text>`);
    });
    parts.push(`<text class="category" x="${f(frame.left + ci * groupW + groupW / 2)}" y="${frame.height - frame.bottom + 20}" text-anchor="middle">${escapeXml(category)}</text>`);
  });
  return (
    svgOpen(frame, options.title, `${options.series.map((s) => s.name).join(', ')} per ${options.categories.join(', ')}`) +
    yAxis(frame, ticks, y, `${options.yLabel} (${display.label})`) +
    parts.join('') +
    baseline(frame) +
    legend(options.series.map((s) => ({ label: s.name, colour: s.colour })), frame.left, 18) +
    '</svg>'
  );
}

export interface LineSeries {
  name: string;
  colour: string;
  points: (number | null)[];
}

/** Lines over categorical x values (e.g. concurrency levels), a dot per point. */
export function lineChart(options: { title: string; unit: Unit; xValues: string[]; xLabel: string; yLabel: string; series: LineSeries[]; yFormat?: (v: number) => string }): string {
  const frame: Frame = { width: 720, height: 340, left: 70, right: 24, top: 44, bottom: 56 };
  const all = options.series.flatMap((s) => s.points.filter((v): v is number => v !== null));
  const max = all.reduce((m, v) => Math.max(m, v), 0);
  const { display, ticks, plotW, y } = valueAxis(frame, max, options.unit, 5);
  const n = options.xValues.length;
  const x = (i: number) => frame.left + (n === 1 ? plotW / 2 : 20 + (i / (n - 1)) * (plotW - 40));
  const parts: string[] = [];
  // At most ~16 labels on the axis (60 requests would overlap); every point keeps its tooltip.
  const labelEvery = Math.max(1, Math.ceil(n / 16));
  options.xValues.forEach((label, i) => {
    if (i % labelEvery !== 0 && i !== n - 1) return;
    parts.push(`<line class="tick-mark" x1="${f(x(i))}" x2="${f(x(i))}" y1="${frame.height - frame.bottom}" y2="${frame.height - frame.bottom + 5}"/><text class="tick" x="${f(x(i))}" y="${frame.height - frame.bottom + 18}" text-anchor="middle">${escapeXml(label)}</text>`);
  });
  for (const s of options.series) {
    const points = s.points.map((v, i) => (v === null ? null : ([x(i), y(v * display.factor), v] as const)));
    const segments: string[] = [];
    let d = '';
    for (const p of points) {
      if (!p) {
        if (d) segments.push(d);
        d = '';
        continue;
      }
      d += `${d ? 'L' : 'M'}${f(p[0])} ${f(p[1])}`;
    }
    if (d) segments.push(d);
    for (const seg of segments) parts.push(`<path class="line" d="${seg}" fill="none" stroke="${s.colour}" stroke-width="2.5" stroke-linejoin="round"/>`);
    points.forEach((p, i) => {
      if (!p) return;
      parts.push(`<circle cx="${f(p[0])}" cy="${f(p[1])}" r="4" fill="${s.colour}" class="dot"><title>${escapeXml(`${s.name}, ${options.xLabel} ${options.xValues[i]}: ${(options.yFormat ?? tickLabel)(p[2])}`)}</title></circle>`);
    });
  }
  return (
    svgOpen(frame, options.title, `${options.yLabel} by ${options.xLabel} for ${options.series.map((s) => s.name).join(', ')}`) +
    yAxis(frame, ticks, y, `${options.yLabel} (${display.label})`) +
    baseline(frame) +
    parts.join('') +
    `<text class="axis-label" x="${f(frame.left + plotW / 2)}" y="${frame.height - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>` +
    legend(options.series.map((s) => ({ label: s.name, colour: s.colour, kind: 'line' })), frame.left, 18) +
    '</svg>'
  );
}

export interface DivergingRow {
  label: string;
  change: number;
  ci?: [number, number];
  verdict: 'regression' | 'improvement' | 'noise';
  tooltip: string;
}

export const VERDICT_COLOURS = { regression: '#D55E00', improvement: '#009E73', noise: '#8a8f98' };

/** Relative changes as horizontal bars left/right of 0, with CI whiskers and the noise band. */
export function divergingBarChart(options: { title: string; rows: DivergingRow[]; threshold: number }): string {
  const rowH = 30;
  const frame: Frame = { width: 720, height: 0, left: 250, right: 30, top: 48, bottom: 44 };
  frame.height = frame.top + frame.bottom + rowH * Math.max(1, options.rows.length);
  const extent = Math.max(options.threshold * 2, ...options.rows.flatMap((r) => [Math.abs(r.change), ...(r.ci ? r.ci.map(Math.abs) : [])])) * 1.1;
  const limit = Math.min(extent, 2); // beyond ±200 % the bar is clipped (and says so in its tooltip)
  const plotW = frame.width - frame.left - frame.right;
  const x = (c: number) => frame.left + ((Math.max(-limit, Math.min(limit, c)) + limit) / (2 * limit)) * plotW;
  const ticks = niceTicks(-limit * 100, limit * 100, 6).filter((t) => Math.abs(t) <= limit * 100 + 1e-9);
  const bottomY = frame.height - frame.bottom;
  const parts: string[] = [];
  parts.push(`<rect class="noise-band" x="${f(x(-options.threshold))}" y="${frame.top - 6}" width="${f(x(options.threshold) - x(-options.threshold))}" height="${f(bottomY - frame.top + 6)}"><title>±${options.threshold * 100} %: the noise threshold</title></rect>`);
  for (const t of ticks) {
    parts.push(`<line class="grid" x1="${f(x(t / 100))}" x2="${f(x(t / 100))}" y1="${frame.top - 6}" y2="${bottomY}"/><text class="tick" x="${f(x(t / 100))}" y="${bottomY + 16}" text-anchor="middle">${t > 0 ? '+' : ''}${tickLabel(t)} %</text>`);
  }
  options.rows.forEach((r, i) => {
    const cy = frame.top + i * rowH + rowH / 2;
    const colour = VERDICT_COLOURS[r.verdict];
    const x0 = x(0);
    const x1 = x(r.change);
    parts.push(`<text class="category" x="${frame.left - 10}" y="${f(cy + 4)}" text-anchor="end">${escapeXml(r.label.length > 36 ? r.label.slice(0, 35) + '…' : r.label)}</text>`);
    parts.push(`<rect class="bar" x="${f(Math.min(x0, x1))}" y="${f(cy - 8)}" width="${f(Math.max(1, Math.abs(x1 - x0)))}" height="16" rx="2" fill="${colour}"><title>${escapeXml(r.tooltip)}</title></rect>`);
    if (r.ci) {
      const [a, b] = [x(r.ci[0]), x(r.ci[1])];
      parts.push(`<path class="whisker" d="M${f(a)} ${f(cy)}H${f(b)}M${f(a)} ${f(cy - 5)}V${f(cy + 5)}M${f(b)} ${f(cy - 5)}V${f(cy + 5)}" stroke-width="1.5" fill="none"/>`);
    }
  });
  parts.push(`<line class="axis" x1="${f(x(0))}" x2="${f(x(0))}" y1="${frame.top - 6}" y2="${bottomY}"/>`);
  return (
    svgOpen(frame, options.title, 'Change of each metric since the previous run, with 95 % confidence intervals') +
    parts.join('') +
    `<text class="axis-label" x="${f(frame.left + plotW / 2)}" y="${frame.height - 8}" text-anchor="middle">change of the p50 since the previous run (req/s for throughput)</text>` +
    legend(
      [
        { label: 'regression', colour: VERDICT_COLOURS.regression },
        { label: 'improvement', colour: VERDICT_COLOURS.improvement },
        { label: 'no change (noise)', colour: VERDICT_COLOURS.noise },
      ],
      frame.left,
      18,
    ) +
    '</svg>'
  );
}

export interface StackedRow {
  label: string;
  segments: number[];
}

/** Horizontal stacked bars: each row split into phases (e.g. DNS, connect, TLS, server, download). */
export function stackedBarChart(options: { title: string; unit: Unit; phases: { name: string; colour: string }[]; rows: StackedRow[]; xLabel: string }): string {
  const rowH = 34;
  const frame: Frame = { width: 720, height: 0, left: 200, right: 30, top: 48, bottom: 50 };
  frame.height = frame.top + frame.bottom + rowH * Math.max(1, options.rows.length);
  const max = Math.max(0, ...options.rows.map((r) => r.segments.reduce((a, b) => a + Math.max(0, b), 0)));
  const { display, ticks, top, plotW } = valueAxis(frame, max, options.unit, 6);
  const x = (v: number) => frame.left + (v / top) * plotW;
  const bottomY = frame.height - frame.bottom;
  const parts: string[] = [];
  for (const t of ticks) parts.push(`<line class="grid" x1="${f(x(t))}" x2="${f(x(t))}" y1="${frame.top - 6}" y2="${bottomY}"/><text class="tick" x="${f(x(t))}" y="${bottomY + 16}" text-anchor="middle">${tickLabel(t)}</text>`);
  options.rows.forEach((r, i) => {
    const cy = frame.top + i * rowH + rowH / 2;
    let at = 0;
    parts.push(`<text class="category" x="${frame.left - 10}" y="${f(cy + 4)}" text-anchor="end">${escapeXml(r.label.length > 30 ? r.label.slice(0, 29) + '…' : r.label)}</text>`);
    r.segments.forEach((v, si) => {
      const value = Math.max(0, v) * display.factor;
      if (value <= 0) return;
      parts.push(`<rect class="bar" x="${f(x(at))}" y="${f(cy - 10)}" width="${f(Math.max(0.5, x(at + value) - x(at)))}" height="20" fill="${options.phases[si].colour}"><title>${escapeXml(`${options.phases[si].name}: ${tickLabel(value)} ${display.label}`)}</title></rect>`);
      at += value;
    });
  });
  parts.push(`<line class="axis" x1="${frame.left}" x2="${frame.left}" y1="${frame.top - 6}" y2="${bottomY}"/>`);
  return (
    svgOpen(frame, options.title, `${options.phases.map((p) => p.name).join(', ')} per row`) +
    parts.join('') +
    `<text class="axis-label" x="${f(frame.left + plotW / 2)}" y="${frame.height - 10}" text-anchor="middle">${escapeXml(options.xLabel)} (${display.label})</text>` +
    legend(options.phases.map((p) => ({ label: p.name, colour: p.colour })), frame.left, 18) +
    '</svg>'
  );
}
