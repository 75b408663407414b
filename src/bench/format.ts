/** Number formatting shared by the terminal table and the HTML report. */
import type { Unit } from './stats.js';

/** A duration in the unit that reads best: 812 ns, 31.2 µs, 1.24 ms, 2.10 s. */
export function formatDuration(value: number, unit: Unit): string {
  if (!Number.isFinite(value)) return '–';
  const us = unit === 'ms' ? value * 1000 : value;
  const abs = Math.abs(us);
  if (abs < 1) return `${(us * 1000).toFixed(0)} ns`;
  if (abs < 1000) return `${us < 10 ? us.toFixed(2) : us < 100 ? us.toFixed(1) : us.toFixed(0)} µs`;
  if (abs < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : us < 100_000 ? 1 : 0)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}

export function formatValue(value: number, unit: Unit): string {
  return unit === 'rps' ? formatRate(value) : formatDuration(value, unit);
}

/** 12345.6 -> "12,346 req/s". */
export function formatRate(reqPerSec: number): string {
  return `${Math.round(reqPerSec).toLocaleString('en-US')} req/s`;
}

export function formatPercent(change: number): string {
  return `${change >= 0 ? '+' : '-'}${Math.abs(change * 100).toFixed(1)} %`;
}
