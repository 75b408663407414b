import type { BuildResult } from './build.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1048576).toFixed(2)} MB`;
}

/** One line: raw -> snapshot -> optimized, with each step's time. */
export function formatBuildSummary(result: BuildResult, displayPath: string): string {
  if (result.cached) return `${displayPath} is up to date (${formatBytes(result.size)}; nothing changed, checked in ${Math.round(result.durationMs)} ms)`;
  const steps = result.manifest.steps.map((s) => `${s.name} ${formatBytes(s.size)} ${s.ms} ms`).join(' -> ');
  return `built ${displayPath} (${formatBytes(result.size)}) in ${Math.round(result.durationMs)} ms: ${steps}`;
}
