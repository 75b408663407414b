/**
 * Builds a template into a .wasm (scaffold into a temp dir + the real pipeline: what `wfn build`
 * ships), once: per test process in memory, and across test files and processes in a disk cache
 * keyed by everything the build reads (the template's files, wfn's build code, the lockfile).
 * The conformance table runs every language's templates on five targets: without the shared
 * cache each file would build the same twelve modules again.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
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

/** A lock left by a process that is gone (killed mid-build) or older than STALE_LOCK_MS. */
async function staleLock(lock: string): Promise<boolean> {
  const pid = Number(await readFile(path.join(lock, 'pid'), 'utf8').catch(() => 'NaN'));
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
  }
  return stat(lock).then((s) => Date.now() - s.mtimeMs > STALE_LOCK_MS, () => false);
}

/**
 * The cached build: there already, or built now under the lock; 'busy' while another
 * process holds the lock (it is building the same template).
 */
async function tryCached(language: string, template: string, options: BuildOptions): Promise<string | 'busy'> {
  const out = path.join(CACHE, `${language}-${template}-${cacheKey(language, template, options)}.wasm`);
  const lock = `${out}.lock`;
  await mkdir(CACHE, { recursive: true });
  if (existsSync(out)) return out;
  try {
    await mkdir(lock);
  } catch {
    if (await staleLock(lock)) await rm(lock, { recursive: true, force: true });
    return 'busy';
  }
  try {
    await writeFile(path.join(lock, 'pid'), String(process.pid));
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

const pause = () => new Promise((r) => setTimeout(r, 250));

async function buildCached(language: string, template: string, options: BuildOptions): Promise<string> {
  for (;;) {
    const result = await tryCached(language, template, options);
    if (result !== 'busy') return result;
    await pause();
  }
}

export function buildTemplate(language: string, template: string, options: BuildOptions = {}): Promise<string> {
  const key = `${language}/${template}/${JSON.stringify(options)}`;
  if (!built.has(key)) built.set(key, buildCached(language, template, options));
  return built.get(key)!;
}

/**
 * Several templates at once: this process builds the ones nobody else is building and comes
 * back for those another process holds, so parallel test files share the work instead of
 * queueing on the same template. Each entry is the .wasm path or the error its build threw.
 */
export async function buildTemplates(list: [string, string][]): Promise<Map<string, string | Error>> {
  const results = new Map<string, string | Error>();
  let pending = [...list];
  while (pending.length > 0) {
    const next: [string, string][] = [];
    for (const [language, template] of pending) {
      const key = `${language}/${template}/{}`;
      try {
        const known = built.get(key);
        const result = known ? await known : await tryCached(language, template, {});
        if (result === 'busy') next.push([language, template]);
        else {
          built.set(key, Promise.resolve(result));
          results.set(`${language}/${template}`, result);
        }
      } catch (error) {
        results.set(`${language}/${template}`, error as Error);
      }
    }
    if (next.length === pending.length) await pause();
    pending = next;
  }
  return results;
}
