/**
 * The JavaScript toolchain: a user's `export default { async fetch(request, env) {...} }`
 * becomes one WASI preview1 command module with QuickJS and the script pre-initialized,
 * so a request neither parses nor compiles JavaScript (unless built with --no-snapshot, for
 * comparison). See build.ts for the steps.
 */
import type { ProjectConfig } from '../../config/types.js';
import { ToolchainMissingError } from '../../util/errors.js';
import type { BuildContext, CompileOutput, Toolchain, ToolStatus } from '../types.js';
import { buildJs, DEFAULT_MAIN } from './build.js';
import { findWasmMerge, findWasmOpt } from '../binaryen.js';
import { COMPONENTIZE_QJS, FIX_NPM, packageDir, packageVersion } from './tools.js';

async function componentizeStatus(): Promise<ToolStatus> {
  const version = packageVersion(COMPONENTIZE_QJS);
  const status: ToolStatus = { name: 'componentize-qjs (QuickJS)', found: Boolean(version), usable: false, version, path: packageDir(COMPONENTIZE_QJS) };
  if (!version) return { ...status, detail: 'the npm package is not installed', fix: FIX_NPM };
  try {
    // Loads the platform's native binding (an optional dependency npm may have skipped).
    await import('componentize-qjs');
    return { ...status, usable: true };
  } catch (error) {
    return {
      ...status,
      detail: `its native binding does not load: ${(error as Error).message.split('\n')[0]}`,
      fix: 'npm install --include=optional componentize-qjs@0.4.5 (the @andreiltd/componentize-qjs-binding-* package for this platform)',
    };
  }
}

function esbuildStatus(): ToolStatus {
  const version = packageVersion('esbuild');
  return { name: 'esbuild', found: Boolean(version), usable: Boolean(version), version, path: packageDir('esbuild'), fix: version ? undefined : FIX_NPM };
}

async function binaryenStatus(name: 'wasm-merge' | 'wasm-opt'): Promise<ToolStatus> {
  const [tool] = await (name === 'wasm-merge' ? findWasmMerge() : findWasmOpt());
  if (!tool) return { name: `${name} (binaryen)`, found: false, usable: false, detail: 'not on PATH and npm binaryen is not installed', fix: FIX_NPM };
  return {
    name: `${name} (binaryen${tool.native ? ', native' : ', npm'})`,
    found: true,
    usable: true,
    version: tool.release,
    path: tool.path,
  };
}

async function detect(): Promise<ToolStatus[]> {
  return [await componentizeStatus(), esbuildStatus(), await binaryenStatus('wasm-merge'), await binaryenStatus('wasm-opt')];
}

async function version(_config: ProjectConfig): Promise<string> {
  const statuses = await detect();
  const missing = statuses.find((s) => !s.usable);
  if (missing) throw new ToolchainMissingError(missing.name, missing.fix ?? FIX_NPM);
  return statuses.map((s) => `${s.name.split(' ')[0]}@${s.version}`).join(' ');
}

async function compile(ctx: BuildContext): Promise<CompileOutput> {
  const { config } = ctx;
  const main = config.build.main ?? DEFAULT_MAIN;
  const toolchainVersion = ctx.version ?? (await version(config));
  // Oz picks componentize-qjs's size-optimized QuickJS (~0.5 MiB smaller, slower JavaScript).
  // The snapshot is on unless the flag or wfn.toml turns it off.
  const snapshot = ctx.snapshot ?? config.build.snapshot ?? true;
  const result = await buildJs(config.dir, main, ctx.workDir, ctx.log, { optSize: ctx.optimize === 'Oz', snapshot, outbound: config.outbound.allow.length > 0, kvStores: config.kv.stores, files: config.files.length > 0 });
  return { wasm: result.wasm, toolchain: { name: 'componentize-qjs', version: toolchainVersion }, snapshot: result.snapshotted ? { initFunc: 'componentize-qjs (top-level script)' } : undefined };
}

const EXTENSIONS = ['js', 'mjs', 'cjs', 'ts', 'mts', 'cts', 'jsx', 'tsx', 'json'];

export const toolchain: Toolchain = {
  language: 'js',
  detect,
  version,
  compile,
  // componentize-qjs runs the script's top-level code under Wizer, and the engine is linked and
  // cleaned up with wasm-opt once (a second pass costs seconds for ~2 %).
  steps: { snapshot: 'toolchain', optimize: 'toolchain' },
  // The script, its local imports (src/ or the project root) and the npm dependency set.
  sourceGlobs: [...EXTENSIONS.map((ext) => `src/**/*.${ext}`), ...EXTENSIONS.filter((e) => e !== 'json').map((ext) => `*.${ext}`), 'package.json', 'package-lock.json'],
};

export { buildJs, DEFAULT_MAIN };
