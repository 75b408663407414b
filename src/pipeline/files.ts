/**
 * `[files]` at build time: walks the mapped project folders, applies the include/exclude
 * globs, and makes the archive (runtime/files.ts) the pipeline embeds in the artifact as the
 * `wfn.files` custom section. Everything read here is the user's: symbolic links must stay in
 * the project, names must be valid paths, and the total is bounded before anything is read.
 */
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FileMapping, ProjectConfig } from '../config/types.js';
import { encodeArchive, pathProblem, type ArchiveEntry } from '../runtime/files.js';
import { formatBytes } from '../util/bytes.js';
import { UserError } from '../util/errors.js';
import { globToRegExp } from './sources.js';

/** What wfn itself accepts in one artifact, whatever the target (targets check their own limits at package time). */
export const MAX_FILES_BYTES = 256 * 1024 * 1024;
export const MAX_FILES = 100_000;

export interface CollectedFile {
  /** Path in the function's view, without the leading "/" ("css/site.css"). */
  path: string;
  /** Absolute path on disk. */
  source: string;
  size: number;
  mtimeNs: bigint;
}

export interface CollectedFiles {
  files: CollectedFile[];
  /** Mount points that become directories even when empty ("templates" for "/templates"). */
  dirs: string[];
  bytes: number;
}

const join = (mount: string, rel: string) => [mount.replace(/^\//, ''), rel].filter(Boolean).join('/');

/** The files `[files]` maps, in path order; throws a UserError naming the mapping or file at fault. */
export async function collectFiles(config: ProjectConfig): Promise<CollectedFiles> {
  const byPath = new Map<string, CollectedFile>();
  const dirs = new Set<string>();
  let bytes = 0;
  const project = await realpath(config.dir);
  for (const mapping of config.files) {
    const root = path.join(config.dir, mapping.dir);
    const where = `[files] "${mapping.mount}" = "${mapping.dir}"`;
    let rootReal: string;
    try {
      rootReal = await realpath(root);
      if (!(await stat(rootReal)).isDirectory()) throw new UserError(`${where}: ${mapping.dir} is not a folder.`);
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`${where}: the folder ${mapping.dir} does not exist in ${config.dir}.`, 'Create it, or fix the path in wfn.toml (relative to the project).');
    }
    if (!inside(project, rootReal)) throw new UserError(`${where}: the folder leads out of the project (${rootReal}).`);
    if (mapping.mount !== '/') dirs.add(mapping.mount.slice(1));
    const include = mapping.include.map(globToRegExp);
    const exclude = mapping.exclude.map(globToRegExp);
    for (const rel of await walk(rootReal, project, where)) {
      if (include.length > 0 && !include.some((re) => re.test(rel))) continue;
      if (exclude.some((re) => re.test(rel))) continue;
      const target = join(mapping.mount, rel);
      const problem = pathProblem(target);
      if (problem) throw new UserError(`${where}: the file ${rel} cannot be bundled: its path ${problem}.`);
      const source = path.join(rootReal, rel);
      const info = await stat(source, { bigint: true });
      const previous = byPath.get(target);
      if (previous) bytes -= previous.size; // a later mapping wins over an earlier one at the same path
      byPath.set(target, { path: target, source, size: Number(info.size), mtimeNs: info.mtimeNs });
      bytes += Number(info.size);
      if (byPath.size > MAX_FILES) throw new UserError(`[files] maps more than ${MAX_FILES} files.`, 'Exclude what the function does not read (exclude = ["**/*.map"]).');
      if (bytes > MAX_FILES_BYTES) {
        throw new UserError(`[files] maps more than ${formatBytes(MAX_FILES_BYTES)} (wfn's limit for files inside one artifact).`, 'Exclude what the function does not read, or serve large assets from object storage.');
      }
    }
  }
  const files = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, dirs: [...dirs].sort(), bytes };
}

function inside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Relative paths ("/"-separated) of the regular files below `root`. Names starting with "."
 * are left out (.git, .DS_Store, .env: never meant to be served); a symbolic link is followed
 * only when it stays in the project, and a folder is entered once (no link cycles).
 */
async function walk(root: string, project: string, where: string): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = async (dir: string, rel: string): Promise<void> => {
    const real = await realpath(dir);
    if (seen.has(real)) return;
    seen.add(real);
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      const relPath = rel ? `${rel}/${entry.name}` : entry.name;
      let info = await lstat(full);
      if (info.isSymbolicLink()) {
        let target: string;
        try {
          target = await realpath(full);
        } catch {
          throw new UserError(`${where}: ${relPath} is a broken symbolic link.`);
        }
        if (!inside(project, target)) throw new UserError(`${where}: ${relPath} is a symbolic link out of the project (to ${target}).`, 'Copy the file into the project instead.');
        info = await stat(target);
      }
      if (info.isDirectory()) await visit(full, relPath);
      else if (info.isFile()) out.push(relPath);
    }
  };
  await visit(root, '');
  return out;
}

/** The archive of the collected files (read now; the sizes were bounded when collected). */
export async function filesArchive(collected: CollectedFiles): Promise<Uint8Array> {
  const entries: ArchiveEntry[] = collected.dirs.map((d) => ({ path: d, kind: 'dir', mtimeNs: 0n }));
  for (const f of collected.files) entries.push({ path: f.path, kind: 'file', mtimeNs: f.mtimeNs, data: await readFile(f.source) });
  return encodeArchive({ preopens: [{ name: '/', path: '' }], entries });
}

/** "3 files, 12 KiB" for build logs. */
export function describeFiles(collected: CollectedFiles): string {
  return `${collected.files.length} file${collected.files.length === 1 ? '' : 's'}, ${formatBytes(collected.bytes)}`;
}

export type { FileMapping };
