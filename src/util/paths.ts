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

/** A binary from wfn's own node_modules/.bin. */
export function npmBin(name: string): string {
  return path.join(packageRoot(), 'node_modules', '.bin', name);
}
