/** The one-line summary `wfn build` prints. */
import { formatBytes } from '../util/bytes.js';
import type { BuildResult } from './build.js';

/** One line: raw -> snapshot -> optimized, with each step's time. */
export function formatBuildSummary(result: BuildResult, displayPath: string): string {
  if (result.cached) return `${displayPath} is up to date (${formatBytes(result.size)}; nothing changed, checked in ${Math.round(result.durationMs)} ms)`;
  const steps = result.manifest.steps.map((s) => `${s.name} ${formatBytes(s.size)} ${s.ms} ms`).join(' -> ');
  return `built ${displayPath} (${formatBytes(result.size)}) in ${Math.round(result.durationMs)} ms: ${steps}`;
}
