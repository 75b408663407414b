/**
 * Builds a template into a .wasm (scaffold into a temp dir + the real pipeline: what `wfn build`
 * ships), once: per test process in memory, and across test files and processes in a disk cache
 * keyed by everything the build reads (the template's files, wfn's build code, the lockfile).
 * The conformance table runs every language's templates on five targets: without the shared
 * cache each file would build the same twelve modules again.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { buildProject, type BuildOptions } from '../../src/pipeline/build.js';
import { scaffoldProject } from '../../src/project/scaffold.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = path.join(tmpdir(), 'wfn-template-cache');
/** What a template build reads besides the template: a change here is a new cache key. */
const BUILD_SOURCES = ['src/toolchains', 'src/pipeline', 'src/guest', 'src/runtime', 'src/config', 'src/project/scaffold.ts', 'src/util', 'package-lock.json'];
/** A lock older than this belongs to a process that died mid-build. */
const STALE_LOCK_MS = 15 * 60_000;

const built = new Map<string, Promise<string>>();

function hashTree(hash: ReturnType<typeof createHash>, file: string): void {
  if (!existsSync(file)) return;
  if (statSync(file).isDirectory()) {
    for (const entry of readdirSync(file).sort()) hashTree(hash, path.join(file, entry));
    return;
  }
  hash.update(`${path.relative(ROOT, file)}\0`).update(readFileSync(file)).update('\0');
}

function cacheKey(language: string, template: string, options: BuildOptions): string {
  const hash = createHash('sha256').update(`${language}/${template}/${JSON.stringify(options)}\0`);
  for (const dir of ['_common', template]) hashTree(hash, path.join(ROOT, 'templates', language, dir));
  for (const source of BUILD_SOURCES) hashTree(hash, path.join(ROOT, source));
  return hash.digest('hex').slice(0, 20);
}

async function buildFresh(language: string, template: string, options: BuildOptions): Promise<string> {
  const parent = await mkdtemp(path.join(tmpdir(), `wfn-${language}-${template}-`));
  const project = await scaffoldProject(`t-${template}`, language, template, parent);
  const config = await loadConfig(project.dir);
  return (await buildProject(config, options)).artifact;
}

/** The cached build, made by whichever process takes the lock first; the others wait for it. */
async function buildCached(language: string, template: string, options: BuildOptions): Promise<string> {
  const out = path.join(CACHE, `${language}-${template}-${cacheKey(language, template, options)}.wasm`);
  const lock = `${out}.lock`;
  await mkdir(CACHE, { recursive: true });
  for (;;) {
    if (existsSync(out)) return out;
    try {
      await mkdir(lock);
    } catch {
      const since = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (since > STALE_LOCK_MS) await rm(lock, { recursive: true, force: true });
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    try {
      if (existsSync(out)) return out;
      const artifact = await buildFresh(language, template, options);
      const tmp = `${out}.${process.pid}.tmp`;
      await copyFile(artifact, tmp);
      await rename(tmp, out); // whole or absent: a reader never sees half a module
      return out;
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }
}

export function buildTemplate(language: string, template: string, options: BuildOptions = {}): Promise<string> {
  const key = `${language}/${template}/${JSON.stringify(options)}`;
  if (!built.has(key)) built.set(key, buildCached(language, template, options));
  return built.get(key)!;
}
