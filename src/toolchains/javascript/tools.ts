/**
 * Where the JavaScript toolchain's npm tools are: componentize-qjs (native binding) and
 * esbuild. binaryen's wasm-merge and wasm-opt are found by ../binaryen.ts.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

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
