/**
 * The JavaScript build: bundle (esbuild) -> componentize-qjs (QuickJS + the script,
 * pre-initialized by Wizer, as a component of the wfn:fn/handler world) -> re-link the
 * component's core modules into one WASI preview1 command module (relink.ts, link.ts).
 * Without the snapshot, QuickJS is pre-initialized with a loader that evaluates the
 * script at the start of each request instead (per-request.ts).
 */
import { rm, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { formatBytes } from '../../util/bytes.js';
import { ToolchainMissingError, UserError } from '../../util/errors.js';
import { bundle } from './bundle.js';
import { WORLD_NAME, WORLD_WIT } from './host-module.js';
import { linkCommand, type LinkTimings } from './link.js';
import { identifyRoles, planLink } from './relink.js';
import { mapBundleStack } from './stack.js';
import { FIX_NPM } from './tools.js';

export const DEFAULT_MAIN = 'src/index.js';

export interface JsBuildResult {
  wasm: Uint8Array;
  /** Whether the script's top-level code ran at build time (the module holds its result). */
  snapshotted: boolean;
  timings: { bundleMs: number; componentizeMs: number; linkMs: number; totalMs: number; link: LinkTimings };
  /** Size of the component componentize-qjs produced. */
  componentBytes: number;
}

type Componentize = (opts: {
  witPath: string;
  jsSource: string;
  jsPath?: string;
  moduleRoot?: string;
  world?: string;
  optSize?: boolean;
}) => Promise<{ component: Uint8Array }>;

async function loadComponentize(): Promise<Componentize> {
  try {
    return (await import('componentize-qjs')).componentize as Componentize;
  } catch (error) {
    throw new ToolchainMissingError(`componentize-qjs (${(error as Error).message.split('\n')[0]})`, FIX_NPM);
  }
}

/**
 * componentize-qjs reports a script that throws while initializing as a Rust error with a
 * wasm backtrace; the JavaScript message inside it is what the user needs.
 */
function initErrorMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // ": Failed to evaluate ...: Failed to finish ...: Error: <message>\n    at <stack>"
  const js = /Failed to [^:\n]*: (?!Failed to )([\s\S]*)$/.exec(text);
  if (js) return js[1].trim();
  const unknown = /unknown import: `([^`]+)`/.exec(text);
  if (unknown) return `the script called the host (${unknown[1]}) while initializing, which only works inside fetch()`;
  return text.split('\n').slice(0, 12).join('\n');
}

export interface JsBuildOptions {
  /** componentize-qjs's size-optimized QuickJS build (smaller, slower JavaScript). */
  optSize?: boolean;
  /**
   * Run the script's top-level code at build time and ship the result (default true).
   * false: the script is parsed, compiled and run at the start of every request.
   */
  snapshot?: boolean;
  /** [outbound] allow is not empty: fetch() reaches the network through wfn_http_v1 (otherwise every call is denied). */
  outbound?: boolean;
  /** [kv] stores: each becomes the binding env.<name> (wfn_kv_v1); none: the host functions answer DENIED. */
  kvStores?: string[];
  /** [files] maps folders: the file-* host functions read them through WASI (otherwise they answer "no such file"). */
  files?: boolean;
}

export async function buildJs(
  projectDir: string,
  main: string,
  workDir: string,
  log: (m: string) => void,
  options: JsBuildOptions = {},
): Promise<JsBuildResult> {
  const t0 = performance.now();
  const entry = resolve(projectDir, main);
  const snapshot = options.snapshot ?? true;
  const { code, features, map } = await bundle(projectDir, entry, { perRequest: !snapshot, kvStores: options.kvStores });
  const bundlePath = join(workDir, 'bundle.js');
  await writeFile(bundlePath, code);
  // Beside the bundle, where stack.ts looks for it; a stale map must not outlive its bundle.
  await (map === undefined ? rm(`${bundlePath}.map`, { force: true }) : writeFile(`${bundlePath}.map`, map));
  const witPath = join(workDir, 'world.wit');
  await writeFile(witPath, WORLD_WIT);
  const t1 = performance.now();
  const apis = features.length ? `; web APIs: ${features.join(', ')}` : '';
  log(`bundled ${main} (${formatBytes(code.length)} of JavaScript${snapshot ? '' : ', evaluated per request: no snapshot'}${apis})`);

  // The two long steps say so when they start, not only when they end.
  log(snapshot ? 'componentizing with QuickJS and running the top-level code (pre-initializing)' : 'componentizing with QuickJS');
  const componentize = await loadComponentize();
  let component: Uint8Array;
  try {
    // The async runtime (not --sync): only its export path drains QuickJS's job queue, so an
    // async fetch() can settle; the host module implements its few async built-ins.
    // With the project as module root, stack traces name the bundle by its project path (.wfn/...).
    const moduleRoot = relative(projectDir, bundlePath).startsWith('..') ? undefined : projectDir;
    ({ component } = await componentize({ witPath, world: WORLD_NAME, jsSource: code, jsPath: bundlePath, moduleRoot, optSize: options.optSize }));
  } catch (error) {
    throw new UserError(`the script failed while initializing (its top-level code runs at build time):\n  ${mapBundleStack(initErrorMessage(error), projectDir)}`);
  }
  const t2 = performance.now();
  log(snapshot ? `componentized with QuickJS and pre-initialized (${Math.round(t2 - t1)} ms)` : `componentized with QuickJS; the script runs at the start of each request (${Math.round(t2 - t1)} ms)`);

  const roles = identifyRoles(component);
  const plan = planLink(roles, { outbound: options.outbound, kv: (options.kvStores?.length ?? 0) > 0, files: options.files });
  log('linking into one WASI module (the QuickJS engine comes from the cache after the first build)');
  const { wasm, timings } = await linkCommand(plan, roles.main.bytes, workDir);
  const t3 = performance.now();
  log(timings.engineCached ? `linked (engine from cache, ${Math.round(t3 - t2)} ms)` : `linked the engine (${timings.engineMs} ms, cached for next builds)`);
  return {
    wasm,
    snapshotted: snapshot,
    componentBytes: component.length,
    timings: {
      bundleMs: Math.round(t1 - t0),
      componentizeMs: Math.round(t2 - t1),
      linkMs: Math.round(t3 - t2),
      totalMs: Math.round(t3 - t0),
      link: timings,
    },
  };
}
