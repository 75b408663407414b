/**
 * esbuild bundles wfn's JavaScript guest runtime (src/guest/js/: the web globals QuickJS lacks and
 * the CGI bridge) with the user's script and its npm imports into one ES module that
 * exports the world's `handle`. Without the snapshot, the same bundle (without import and
 * export statements) is wrapped in a loader that evaluates it per request (per-request.ts).
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../util/errors.js';
import { HANDLE_GLOBAL, perRequestHostShim, perRequestLoader } from './per-request.js';

/** The guest runtime's folder (src/guest/js): .ts sources under src/ (tests, dev), compiled .js under lib/. */
export function runtimeDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'guest', 'js');
}

/** A runtime module's path without extension (esbuild picks .ts or .js). */
function runtimeModule(name: string): string {
  const base = join(runtimeDir(), name);
  if (!existsSync(base + '.ts') && !existsSync(base + '.js')) {
    throw new Error(`wfn's JavaScript runtime is incomplete: ${base}.js is missing (reinstall wfn)`);
  }
  return base;
}

/** The import specifiers componentize-qjs resolves itself (the world's interfaces). */
const WORLD_IMPORTS = ['wfn:fn/host'];

export interface BundleResult {
  code: string;
  /** Files the bundle was built from (relative to the project), for the log. */
  inputs: string[];
}

export interface BundleOptions {
  /**
   * Build for evaluation at the start of each request instead of at build time (no snapshot):
   * the ES module componentize-qjs gets is a loader holding the bundle as a string.
   */
  perRequest?: boolean;
}

/** Bundles runtime + user entry into one ES module. `entry` is absolute. */
export async function bundle(projectDir: string, entry: string, options: BundleOptions = {}): Promise<BundleResult> {
  if (!existsSync(entry)) {
    throw new UserError(
      `the entry file ${relative(projectDir, entry) || entry} does not exist`,
      'create it, or point [build] main in wfn.toml at the file that has `export default { async fetch(request, env) { ... } }`',
    );
  }
  const esbuild = await import('esbuild');
  const entrySource = [
    // Evaluated inside a request: the request phase starts before any other module runs.
    ...(options.perRequest ? [`import ${JSON.stringify(runtimeModule('per-request'))};`] : []),
    `import ${JSON.stringify(runtimeModule('globals'))};`,
    `import { serve } from ${JSON.stringify(runtimeModule('serve'))};`,
    `import * as userModule from ${JSON.stringify(entry)};`,
    options.perRequest ? `globalThis.${HANDLE_GLOBAL} = serve(userModule);` : 'export const handle = serve(userModule);',
  ].join('\n');
  // Per request, the host interface comes from the loader, not from an import statement.
  const hostShim = {
    name: 'wfn-host-shim',
    setup(build: import('esbuild').PluginBuild) {
      build.onResolve({ filter: /^wfn:fn\/host$/ }, (args) => ({ path: args.path, namespace: 'wfn-host' }));
      build.onLoad({ filter: /.*/, namespace: 'wfn-host' }, () => ({ contents: perRequestHostShim, loader: 'js' }));
    },
  };
  try {
    const result = await esbuild.build({
      stdin: { contents: entrySource, resolveDir: projectDir, sourcefile: 'wfn-entry.js', loader: 'js' },
      absWorkingDir: projectDir,
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      // QuickJS-ng implements ES2023; packages pick their web/worker builds.
      target: 'es2023',
      mainFields: ['module', 'main'],
      conditions: ['workerd', 'worker', 'browser'],
      external: options.perRequest ? [] : WORLD_IMPORTS,
      plugins: options.perRequest ? [hostShim] : [],
      // A function body cannot say import.meta: esbuild substitutes an empty object.
      supported: options.perRequest ? { 'import-meta': false } : undefined,
      metafile: true,
      logLevel: 'silent',
      legalComments: 'none',
      charset: 'utf8',
    });
    const inputs = Object.keys(result.metafile.inputs).filter((f) => !f.includes('guest/js/') && !f.startsWith('wfn-host:'));
    const code = result.outputFiles[0].text;
    return { code: options.perRequest ? perRequestLoader(code) : code, inputs };
  } catch (error) {
    const failure = error as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] };
    if (failure.errors?.length) {
      const lines = failure.errors.slice(0, 5).map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text));
      throw new UserError(`bundling the JavaScript failed:\n  ${lines.join('\n  ')}`, 'fix the error above (npm imports must be installed: npm install)');
    }
    throw error;
  }
}
