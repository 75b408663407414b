/**
 * Maps a JavaScript function's stack traces from the bundle back to the user's files, when
 * they are reported (wfn run, wfn dev, a build-time throw): QuickJS names the bundle
 * (`at fetch (/.wfn/build/bundle.js:23:2098)`), esbuild's source map beside it (bundle.ts)
 * knows `src/index.js:23:11`. The host does the mapping, so the function carries no map and
 * its snapshot stays the same size. Node's own source-map reader (node:module), no dependency.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';

/** Where the JavaScript build keeps its bundle (the build's work folder), relative to the project. */
export const BUNDLE_FILE = path.join('.wfn', 'build', 'bundle.js');

/** `/.wfn/build/bundle.js:LINE:COL` as QuickJS prints it (the project is its module root). */
const FRAME = /\/?\.wfn\/build\/bundle\.js:(\d+):(\d+)/g;

const cache = new Map<string, { mtimeMs: number; map: SourceMap }>();

function loadMap(file: string): SourceMap | undefined {
  try {
    const { mtimeMs } = statSync(file);
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === mtimeMs) return hit.map;
    const map = new SourceMap(JSON.parse(readFileSync(file, 'utf8')) as SourceMapPayload);
    cache.set(file, { mtimeMs, map });
    return map;
  } catch {
    return undefined; // no map (not a JS project, a per-request build) or an unreadable one: leave the text as it is
  }
}

/**
 * Rewrites every bundle location in `text` to the original file:line:column, relative to the
 * project (`src/index.js:23:11`); a frame inside wfn's own runtime becomes `wfn runtime`.
 * Text without a bundle location, or a project without a map, comes back unchanged.
 */
export function mapBundleStack(text: string, projectDir: string): string {
  if (!text.includes('bundle.js:')) return text;
  const mapFile = path.join(projectDir, `${BUNDLE_FILE}.map`);
  if (!existsSync(mapFile)) return text;
  const map = loadMap(mapFile);
  if (!map) return text;
  return text.replace(FRAME, (whole, line: string, column: string) => {
    // QuickJS counts lines and columns from 1; the map from 0.
    const entry = map.findEntry(Number(line) - 1, Number(column) - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
    if (entry?.originalSource === undefined || entry.originalLine === undefined) return whole;
    if (entry.originalSource.startsWith('wfn-runtime:')) return 'wfn runtime';
    // Sources are relative to the project folder (bundle.ts's outfile), possibly as file:// URLs.
    const source = entry.originalSource.startsWith('file://') ? path.relative(projectDir, new URL(entry.originalSource).pathname) : entry.originalSource;
    return `${source.split(path.sep).join('/')}:${entry.originalLine + 1}:${(entry.originalColumn ?? 0) + 1}`;
  });
}
