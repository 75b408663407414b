/**
 * AssemblyScript through the compiler's API, in-process (about 0.5 s instead of 3-5 s for a
 * fresh `asc` process), with the WASI shim so the output is a preview1 command module.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { UserError } from '../util/errors.js';
import { renameExports } from '../runtime/wasm-binary.js';
import type { ProjectConfig } from '../config/types.js';
import { PIPELINE_STEPS, type BuildContext, type CompileOutput, type ToolStatus, type Toolchain } from './types.js';

const require = createRequire(import.meta.url);
const DEFAULT_MAIN = 'assembly/index.ts';

function packageVersion(name: string): string | undefined {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

/** The WASI shim's asconfig.json options as command-line flags (its relative `lib` path is not resolved through the API). */
function shimFlags(): string[] {
  const dir = path.dirname(require.resolve('@assemblyscript/wasi-shim/package.json'));
  const { options } = require(path.join(dir, 'asconfig.json')) as { options: { lib: string; use: string[]; exportStart: string } };
  return ['--lib', path.join(dir, options.lib), ...options.use.flatMap((u) => ['--use', u]), '--exportStart', options.exportStart];
}

/**
 * The AssemblyScript runtime: the project's asconfig.json `options.runtime`, else "incremental".
 * The init template uses "stub": the incremental GC sets itself up in the start function, which
 * has not run when Wizer calls wizer.initialize; a fresh instance per request needs no GC anyway.
 */
async function projectRuntime(dir: string): Promise<string> {
  try {
    const config = JSON.parse(await readFile(path.join(dir, 'asconfig.json'), 'utf8')) as { options?: { runtime?: string } };
    return config.options?.runtime ?? 'incremental';
  } catch {
    return 'incremental';
  }
}

export const toolchain: Toolchain = {
  language: 'assemblyscript',
  steps: PIPELINE_STEPS,
  sourceGlobs: ['assembly/**/*.ts', 'asconfig.json', 'package.json'],

  async detect(): Promise<ToolStatus[]> {
    const asc = packageVersion('assemblyscript');
    const shim = packageVersion('@assemblyscript/wasi-shim');
    const fix = 'npm install assemblyscript @assemblyscript/wasi-shim (they ship with wfn; reinstall wfn)';
    return [
      { name: 'assemblyscript (asc)', found: !!asc, usable: !!asc, version: asc, fix: asc ? undefined : fix },
      { name: '@assemblyscript/wasi-shim', found: !!shim, usable: !!shim, version: shim, fix: shim ? undefined : fix },
    ];
  },

  async version(): Promise<string> {
    const v = packageVersion('assemblyscript');
    if (!v) throw new UserError('assemblyscript is not installed.', 'npm install assemblyscript @assemblyscript/wasi-shim');
    return `asc ${v} + wasi-shim ${packageVersion('@assemblyscript/wasi-shim')}`;
  },

  async compile(ctx: BuildContext): Promise<CompileOutput> {
    const { config } = ctx;
    const entry = path.resolve(config.dir, config.build.main ?? DEFAULT_MAIN);
    if (!existsSync(entry)) throw new UserError(`The entry file ${path.relative(process.cwd(), entry)} does not exist.`, 'Set [build] main in wfn.toml.');
    const { default: asc } = await import('assemblyscript/asc');
    const runtime = await projectRuntime(config.dir);
    let wasm: Uint8Array | undefined;
    let diagnostics = '';
    const result = await asc.main(
      [entry, ...shimFlags(), '--outFile', 'out.wasm', '--runtime', runtime, '--noColors'],
      {
        writeFile(name: string, contents: Uint8Array | string) {
          if (name.endsWith('.wasm') && typeof contents !== 'string') wasm = contents;
        },
        // asc's own directory listing misses the shim's lib folder when called through the API.
        listFiles(dir: string, baseDir: string) {
          try {
            return readdirSync(path.resolve(baseDir, dir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
          } catch {
            return null;
          }
        },
        stdout: asc.createMemoryStream(),
        stderr: asc.createMemoryStream((chunk) => {
          diagnostics += typeof chunk === 'string' ? chunk : new TextDecoder().decode(chunk);
        }),
      },
    );
    if (result.error || !wasm) {
      throw new UserError(`AssemblyScript compilation failed:\n${diagnostics.trim() || result.error?.message}`);
    }
    // AssemblyScript cannot spell an export "wizer.initialize"; the template exports wizer_initialize.
    wasm = renameExports(wasm, { wizer_initialize: 'wizer.initialize' });
    return { wasm, toolchain: { name: 'assemblyscript', version: await this.version(config as ProjectConfig) } };
  },
};
