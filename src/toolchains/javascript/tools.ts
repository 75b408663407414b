/**
 * Where the JavaScript toolchain's tools are: componentize-qjs (npm, native binding),
 * binaryen's wasm-merge (npm only) and wasm-opt (native on PATH preferred: much faster).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const require = createRequire(import.meta.url);

export const COMPONENTIZE_QJS = 'componentize-qjs';
/** They are wfn's own dependencies: a missing one means a broken install. */
export const FIX_NPM = 'npm install componentize-qjs@0.4.5 binaryen@132.0.0 esbuild@0.28.2 (in wfn\'s folder; reinstalling wfn restores them)';

/** Version of an installed npm package, or undefined when it cannot be resolved. */
export function packageVersion(name: string): string | undefined {
  const dir = packageDir(name);
  if (!dir) return undefined;
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
}

export function packageDir(name: string): string | undefined {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/** A binaryen tool: either a native executable or one of the npm package's node scripts. */
export interface BinaryenTool {
  /** What to spawn and its leading arguments. */
  command: string;
  args: string[];
  path: string;
  native: boolean;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** npm binaryen's node script for a tool (bin/<tool>), when installed. */
function npmBinaryen(tool: string): BinaryenTool | undefined {
  const dir = packageDir('binaryen');
  const script = dir && join(dir, 'bin', tool);
  if (!script || !existsSync(script)) return undefined;
  return { command: process.execPath, args: [script], path: script, native: false };
}

/** A native wasm-opt is several times faster than the npm build; PATH wins when present. */
export function findWasmOpt(): BinaryenTool | undefined {
  const native = onPath('wasm-opt');
  if (native && !native.includes('node_modules')) return { command: native, args: [], path: native, native: true };
  return npmBinaryen('wasm-opt');
}

/** npm's wasm-opt: the same binaryen version as wasm-merge, the fallback when a native one fails. */
export function findNpmWasmOpt(): BinaryenTool | undefined {
  return npmBinaryen('wasm-opt');
}

/** wasm-merge: the npm build (v132); Debian's binaryen does not ship it. */
export function findWasmMerge(): BinaryenTool | undefined {
  const native = onPath('wasm-merge');
  if (native && !native.includes('node_modules')) return { command: native, args: [], path: native, native: true };
  return npmBinaryen('wasm-merge');
}

export async function runTool(tool: BinaryenTool, args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync(tool.command, [...tool.args, ...args], { cwd, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`${tool.path} failed: ${(e.stderr || e.message).trim().split('\n').slice(0, 20).join('\n')}`);
  }
}

const helpCache = new Map<string, Promise<string>>();

/** The subset of `flags` a tool understands (Debian's wasm-opt 108 lacks the newest feature flags). */
export async function supportedFlags(tool: BinaryenTool, flags: string[]): Promise<string[]> {
  let help = helpCache.get(tool.path);
  if (!help) {
    help = execFileAsync(tool.command, [...tool.args, '--help'], { maxBuffer: 16 * 1024 * 1024 }).then((r) => r.stdout);
    helpCache.set(tool.path, help);
  }
  const text = await help;
  return flags.filter((f) => new RegExp(`(^|\\s)${f.replace(/[-]/g, '\\-')}(\\s|,|$)`, 'm').test(text));
}

const versionCache = new Map<string, Promise<string>>();

/** "108" for Debian's wasm-opt; the npm package's version for npm's tools (no Node start-up). */
export function toolVersion(tool: BinaryenTool): Promise<string> {
  let version = versionCache.get(tool.path);
  if (!version) {
    version = tool.native
      ? execFileAsync(tool.command, [...tool.args, '--version']).then(({ stdout }) => /version\s+(\d+)/.exec(stdout)?.[1] ?? stdout.trim())
      : Promise.resolve(packageVersion('binaryen') ?? 'unknown');
    versionCache.set(tool.path, version);
  }
  return version;
}
