/**
 * binaryen's tools, found once per process for the pipeline, the JavaScript toolchain and the
 * Fastly adapter: wasm-opt (a native one on PATH first, several times faster; npm binaryen's
 * as the fallback; WFN_WASM_OPT pins one) and wasm-merge (npm's: Debian's binaryen lacks it).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { execCapture, execChecked, findAllOnPath, versionOf } from '../util/exec.js';

const require = createRequire(import.meta.url);

/** One binaryen tool: what to spawn, and its version. */
export interface BinaryenTool {
  /** What to spawn and its leading arguments (npm's tools are node scripts). */
  command: string;
  args: string[];
  path: string;
  native: boolean;
  /** The first line of its --version ("wasm-opt version 108"), as manifests record it. */
  versionLine: string;
  /** The release: "108" for a native build, the npm package's version for npm's. */
  release: string;
}

function binaryenPackage(): { dir: string; version: string } | undefined {
  try {
    const file = require.resolve('binaryen/package.json');
    return { dir: path.dirname(file), version: (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version };
  } catch {
    return undefined;
  }
}

async function probe(command: string, args: string[], file: string, native: boolean, npmVersion?: string): Promise<BinaryenTool | undefined> {
  const versionLine = await versionOf(command, [...args, '--version']);
  if (!versionLine) return undefined;
  const release = npmVersion ?? /version\s+(\d+)/.exec(versionLine)?.[1] ?? versionLine;
  return { command, args, path: file, native, versionLine, release };
}

/** Native builds on PATH (not npm's shims under node_modules), then npm binaryen's node script. */
async function find(name: 'wasm-opt' | 'wasm-merge'): Promise<BinaryenTool[]> {
  const pinned = name === 'wasm-opt' ? process.env.WFN_WASM_OPT : undefined;
  if (pinned) return [await probe(pinned, [], pinned, true)].filter((t): t is BinaryenTool => !!t);
  const found: BinaryenTool[] = [];
  for (const file of findAllOnPath(name).filter((p) => !p.includes(`${path.sep}node_modules${path.sep}`))) {
    const tool = await probe(file, [], file, true);
    if (tool) found.push(tool);
  }
  const npm = binaryenPackage();
  const script = npm && path.join(npm.dir, 'bin', name);
  if (script && existsSync(script)) {
    const tool = await probe(process.execPath, [script], script, false, npm.version);
    if (tool) found.push(tool);
  }
  return found;
}

const cache = new Map<string, Promise<BinaryenTool[]>>();

/** Usable wasm-opt binaries, native first. */
export function findWasmOpt(): Promise<BinaryenTool[]> {
  if (!cache.has('wasm-opt')) cache.set('wasm-opt', find('wasm-opt'));
  return cache.get('wasm-opt')!;
}

/** Usable wasm-merge binaries, native first (in practice npm's: Debian does not ship it). */
export function findWasmMerge(): Promise<BinaryenTool[]> {
  if (!cache.has('wasm-merge')) cache.set('wasm-merge', find('wasm-merge'));
  return cache.get('wasm-merge')!;
}

/** Runs a tool that must succeed (an Error with its first output lines otherwise). */
export async function runTool(tool: BinaryenTool, args: string[], cwd?: string): Promise<void> {
  await execChecked(tool.command, [...tool.args, ...args], { cwd, label: tool.path });
}

const helpCache = new Map<string, Promise<string>>();

/** The subset of `flags` a tool understands (Debian's wasm-opt 108 lacks the newest feature flags). */
export async function supportedFlags(tool: BinaryenTool, flags: string[]): Promise<string[]> {
  let help = helpCache.get(tool.path);
  if (!help) {
    help = execCapture(tool.command, [...tool.args, '--help']).then((r) => r.stdout);
    helpCache.set(tool.path, help);
  }
  const text = await help;
  return flags.filter((f) => new RegExp(`(^|\\s)${f.replace(/[-]/g, '\\-')}(\\s|,|$)`, 'm').test(text));
}
