/**
 * esbuild bundles wfn's JavaScript guest runtime (src/guest/js/: the web globals QuickJS lacks and
 * the CGI bridge) with the user's script and its npm imports into one ES module that
 * exports the world's `handle`. Without the snapshot, the same bundle (without import and
 * export statements) is wrapped in a loader that evaluates it per request (per-request.ts).
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { UserError } from '../../util/errors.js';
import { siblingFile } from '../../util/paths.js';
import { featuresFor } from './features.js';
import { HANDLE_GLOBAL, perRequestHostShim, perRequestLoader } from './per-request.js';

/** The guest runtime's folder (src/guest/js): .ts sources under src/ (tests, dev), compiled .js under lib/. */
export function runtimeDir(): string {
  return dirname(runtimeFile('globals'));
}

/**
 * A runtime module's file, found as every file shipped beside wfn's modules is (siblingFile:
 * the .ts under src/, the .js tsc wrote under lib/ in an installed CLI); esbuild reads either.
 */
function runtimeFile(name: string): string {
  return siblingFile(import.meta.url, join('..', '..', 'guest', 'js', name), 'bundle');
}

/**
 * whatwg-url (src/guest/js/url.ts) without the two things a function does not want from it: the
 * UTS 46 table of tr46 (src/guest/js/idna.ts instead) and TextEncoder/TextDecoder globals at load
 * time (src/guest/js/url-encoding.ts instead).
 */
const urlParserDeps = {
  name: 'wfn-url-parser-deps',
  setup(build: import('esbuild').PluginBuild) {
    build.onResolve({ filter: /^tr46$/ }, () => ({ path: runtimeFile('idna') }));
    build.onResolve({ filter: /^\.\/encoding(\.js)?$/ }, (args) =>
      /[/\\]whatwg-url[/\\]lib$/.test(args.resolveDir) ? { path: runtimeFile('url-encoding') } : undefined,
    );
  },
};

/** The import specifiers componentize-qjs resolves itself (the world's interfaces). */
const WORLD_IMPORTS = ['wfn:fn/host'];

export interface BundleResult {
  code: string;
  /** The optional runtime modules the script's code called for (features.ts). */
  features: string[];
  /** Files the bundle was built from (relative to the project), for the log. */
  inputs: string[];
  /**
   * esbuild's source map of `code` (sources relative to the project), kept beside the bundle
   * so a stack trace can be mapped back to the user's files when it is reported (stack.ts).
   * The code carries no sourceMappingURL: the snapshot stays the same size. Absent per
   * request, where the bundle is a string inside a loader.
   */
  map?: string;
}

export interface BundleOptions {
  /**
   * Build for evaluation at the start of each request instead of at build time (no snapshot):
   * the ES module componentize-qjs gets is a loader holding the bundle as a string.
   */
  perRequest?: boolean;
  /** [kv] stores of wfn.toml: the runtime's kv module binds each as env.<name>. */
  kvStores?: string[];
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
  // `import ... from 'wfn:files'`: the guest module that reads the bundled files (src/guest/js/files.ts).
  const filesModule = {
    name: 'wfn-files',
    setup(build: import('esbuild').PluginBuild) {
      build.onResolve({ filter: /^wfn:files$/ }, () => ({ path: runtimeFile('files') }));
    },
  };
  // Per request, the host interface comes from the loader, not from an import statement.
  const hostShim = {
    name: 'wfn-host-shim',
    setup(build: import('esbuild').PluginBuild) {
      build.onResolve({ filter: /^wfn:fn\/host$/ }, (args) => ({ path: args.path, namespace: 'wfn-host' }));
      build.onLoad({ filter: /.*/, namespace: 'wfn-host' }, () => ({ contents: perRequestHostShim, loader: 'js' }));
    },
  };
  const common: import('esbuild').BuildOptions & { write: false; metafile: true } = {
    absWorkingDir: projectDir,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    // QuickJS-ng implements ES2023; packages pick their web/worker builds.
    target: 'es2023',
    mainFields: ['module', 'main'],
    conditions: ['workerd', 'worker', 'browser'],
    logLevel: 'silent',
    legalComments: 'none',
    charset: 'utf8',
    metafile: true,
    // QuickJS keeps every function's source text in the snapshot: whitespace costs module size.
    minifyWhitespace: true,
    minifySyntax: true,
  };
  try {
    // First pass: the script and its npm imports alone, to see which web APIs it names.
    const scan = await esbuild.build({ ...common, entryPoints: [entry], external: WORLD_IMPORTS, plugins: [filesModule] });
    const features = featuresFor(scan.outputFiles[0].text);
    // Second: wfn's runtime with those modules, names minified too (the user's code keeps its
    // names: its classes' and functions' `name` is observable). This halves the runtime's share
    // of the snapshot; the http template's module would grow 14.5% instead of 9.4%.
    const runtimeSource = [
      // Evaluated inside a request: the request phase starts before any other module runs.
      ...(options.perRequest ? [`import ${JSON.stringify(runtimeFile('per-request'))};`] : []),
      `import ${JSON.stringify(runtimeFile('globals'))};`,
      ...features.map((f) => `import ${JSON.stringify(runtimeFile(f))};`),
      // Key-value bindings come from wfn.toml, not from the code (env.<name> is reached dynamically).
      ...(options.kvStores?.length ? [`import { defineStores } from ${JSON.stringify(runtimeFile('kv'))};`, `defineStores(${JSON.stringify(options.kvStores)});`] : []),
      `export { serve } from ${JSON.stringify(runtimeFile('serve'))};`,
    ].join('\n');
    const runtime = await esbuild.build({
      ...common,
      stdin: { contents: runtimeSource, resolveDir: runtimeDir(), sourcefile: 'wfn-runtime.js', loader: 'js' },
      external: WORLD_IMPORTS,
      plugins: [urlParserDeps],
      minifyIdentifiers: true,
    });
    const runtimePlugin = {
      name: 'wfn-runtime',
      setup(build: import('esbuild').PluginBuild) {
        build.onResolve({ filter: /^wfn:runtime$/ }, () => ({ path: 'wfn-runtime.js', namespace: 'wfn-runtime' }));
        build.onLoad({ filter: /.*/, namespace: 'wfn-runtime' }, () => ({ contents: runtime.outputFiles[0].text, loader: 'js', resolveDir: runtimeDir() }));
      },
    };
    const entrySource = [
      `import { serve } from 'wfn:runtime';`,
      `import * as userModule from ${JSON.stringify(entry)};`,
      options.perRequest ? `globalThis.${HANDLE_GLOBAL} = serve(userModule);` : 'export const handle = serve(userModule);',
    ].join('\n');
    const result = await esbuild.build({
      ...common,
      stdin: { contents: entrySource, resolveDir: projectDir, sourcefile: 'wfn-entry.js', loader: 'js' },
      external: options.perRequest ? [] : WORLD_IMPORTS,
      plugins: [runtimePlugin, filesModule, ...(options.perRequest ? [hostShim] : [])],
      // A function body cannot say import.meta: esbuild substitutes an empty object.
      supported: options.perRequest ? { 'import-meta': false } : undefined,
      // The map's sources are relative to the (never written) outfile: the project folder.
      ...(options.perRequest ? {} : { sourcemap: 'external' as const, sourcesContent: false, outfile: join(projectDir, 'bundle.js') }),
    });
    const inputs = Object.keys(scan.metafile.inputs);
    const code = result.outputFiles.find((f) => !f.path.endsWith('.map'))!.text;
    const map = result.outputFiles.find((f) => f.path.endsWith('.map'))?.text;
    return { code: options.perRequest ? perRequestLoader(code) : code, inputs, features: options.kvStores?.length ? [...features, 'kv'] : features, map };
  } catch (error) {
    const failure = error as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] };
    if (failure.errors?.length) {
      const lines = failure.errors.slice(0, 5).map((e) => (e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ${e.text}` : e.text));
      throw new UserError(`bundling the JavaScript failed:\n  ${lines.join('\n  ')}`, 'fix the error above (npm imports must be installed: npm install)');
    }
    throw error;
  }
}
