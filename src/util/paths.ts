import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/** The wfn package's own folder (holds templates/, node_modules/, lib/), from src/ or lib/src/. */
export function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'wfn') return (root = dir);
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('wfn package root not found');
    dir = parent;
  }
}

export function wfnVersion(): string {
  return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * A binary of one of wfn's dependencies, from node_modules/.bin: wfn's own (a checkout, a
 * global install), else the nearest above it (a project-local install, where npm hoists the
 * dependencies beside wfn: <project>/node_modules/.bin). Not found: wfn's own path, for the message.
 */
export function npmBin(name: string): string {
  const own = path.join(packageRoot(), 'node_modules', '.bin', name);
  for (let dir = packageRoot(); ; ) {
    const candidate = path.join(dir, 'node_modules', '.bin', name);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return own;
    dir = parent;
  }
}

/** How a file beside a module is used: run in a thread or process, bundled by esbuild, or read as data. */
export type SiblingKind = 'run' | 'bundle' | 'asset';

/**
 * A file that ships beside the calling module (pass its import.meta.url), found the same way
 * from src/ (the tests run the .ts sources) and from lib/ (the installed CLI runs tsc's output):
 * - 'run', a script for a worker thread or a child process, which must be JavaScript:
 *   `<name>.js` beside, else the built copy under lib/ (`npm run build` makes it);
 * - 'bundle', an entry for esbuild, which reads either: `<name>.ts` beside, else `<name>.js`;
 * - 'asset', a file tsc does not copy (adapter.wat): beside, else at the same place in the package.
 */
export function siblingFile(moduleUrl: string, name: string, kind: SiblingKind): string {
  const here = path.dirname(fileURLToPath(moduleUrl));
  const lib = path.join(packageRoot(), 'lib');
  const fromLib = here === lib || here.startsWith(`${lib}${path.sep}`);
  // The module's folder relative to the package, as in the sources (src/..., adapters/...).
  const sourceDir = path.relative(fromLib ? lib : packageRoot(), here);
  const found = (file: string) => {
    if (!existsSync(file)) throw new Error(`${file} is missing: ${kind === 'run' ? 'run "npm run build" first' : 'reinstall wfn'}`);
    return file;
  };
  switch (kind) {
    case 'run':
      return found(fromLib ? path.join(here, `${name}.js`) : path.join(lib, sourceDir, `${name}.js`));
    case 'bundle': {
      const ts = path.join(here, `${name}.ts`);
      return existsSync(ts) ? ts : found(path.join(here, `${name}.js`));
    }
    case 'asset': {
      const beside = path.join(here, name);
      return existsSync(beside) ? beside : found(path.join(packageRoot(), sourceDir, name));
    }
  }
}
