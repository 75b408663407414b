/** Lists a project's source files from simple globs ("src/**\/*.rs", "go.mod"), skipping build output. */
import { readdir } from 'node:fs/promises';
import path from 'node:path';

const SKIP_DIRS = new Set(['node_modules', 'dist', '.wfn', 'target', '.git']);

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

async function walk(dir: string, base: string, out: string[]): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) await walk(path.join(dir, entry.name), base, out);
    } else if (entry.isFile()) {
      out.push(path.relative(base, path.join(dir, entry.name)).split(path.sep).join('/'));
    }
  }
}

/** Project-relative paths (with "/") of the files matching any glob, sorted. */
export async function listSources(projectDir: string, globs: string[]): Promise<string[]> {
  const all: string[] = [];
  await walk(projectDir, projectDir, all);
  const patterns = globs.map(globToRegExp);
  return all.filter((f) => patterns.some((p) => p.test(f))).sort();
}
