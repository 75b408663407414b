/**
 * The build pipeline: compile -> validate -> snapshot -> wasm-opt -> validate + smoke ->
 * dist/<name>.wasm + dist/<name>.manifest.json, behind a content-hash cache.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { OptimizeLevel, ProjectConfig } from '../config/types.js';
import { checkContract } from '../runtime/contract.js';
import { appendCustomSection } from '../runtime/wasm-binary.js';
import { UserError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { wfnVersion } from '../util/paths.js';
import { getToolchain } from '../toolchains/index.js';
import { collectFiles, describeFiles, filesArchive, type CollectedFiles } from './files.js';
import { listSources } from './sources.js';
import { FILES_SECTION } from '../runtime/files.js';

/** Name of the custom section where wfn records how a module was built. */
export const WFN_SECTION = 'wfn.build';

export interface BuildOptions {
  optimize?: OptimizeLevel;
  /** true/false forces; undefined = wfn.toml, else on when the module exports wizer.initialize. */
  snapshot?: boolean;
  /** Ignore the cache. */
  force?: boolean;
  /** Skip the smoke invocation (used by benchmarks that build many variants). */
  noSmoke?: boolean;
  log?(message: string): void;
}

export interface BuildStep {
  name: 'compile' | 'snapshot' | 'optimize' | 'validate';
  ms: number;
  /** Module size after the step, bytes. */
  size: number;
  detail?: string;
}

export interface Manifest {
  name: string;
  language: string;
  artifact: string;
  sha256: string;
  size: number;
  sizes: { raw: number; snapshot?: number; optimized: number };
  /** `[files]`: how many were bundled, their bytes, and the wfn.files section's size. */
  files?: { count: number; bytes: number; archiveBytes: number };
  snapshot: { enabled: boolean; initFunc?: string; allowWasi?: boolean };
  optimize: { level: OptimizeLevel; tool: string };
  toolchain: { name: string; version: string };
  wfnVersion: string;
  steps: BuildStep[];
  imports: string[];
  exports: string[];
  builtAt: string;
  cacheKey: string;
}

export interface BuildResult {
  artifact: string;
  manifestPath: string;
  size: number;
  sha256: string;
  /** True when nothing changed and nothing was rebuilt. */
  cached: boolean;
  durationMs: number;
  manifest: Manifest;
}

export function artifactPaths(config: ProjectConfig): { artifact: string; manifest: string; cache: string; workDir: string } {
  return {
    artifact: path.join(config.dir, 'dist', `${config.name}.wasm`),
    manifest: path.join(config.dir, 'dist', `${config.name}.manifest.json`),
    cache: path.join(config.dir, '.wfn', 'build-cache.json'),
    workDir: path.join(config.dir, '.wfn', 'build'),
  };
}

const sha256 = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

/** Everything that decides the output: sources, wfn.toml, toolchain and wfn versions, flags, bundled files (content and mtime). */
async function cacheKey(config: ProjectConfig, toolchainVersion: string, globs: string[], options: BuildOptions, files: CollectedFiles): Promise<string> {
  const hash = createHash('sha256');
  hash.update(`wfn ${wfnVersion()}\0toolchain ${toolchainVersion}\0`);
  hash.update(`flags ${JSON.stringify({ optimize: options.optimize ?? null, snapshot: options.snapshot ?? null })}\0`);
  hash.update(await readFile(config.file));
  for (const file of await listSources(config.dir, globs)) {
    hash.update(`\0${file}\0`);
    hash.update(await readFile(path.join(config.dir, file)));
  }
  // The mtime is in the archive (it makes the templates' ETag), so it decides the output too.
  for (const file of files.files) {
    hash.update(`\0file ${file.path}\0${file.mtimeNs}\0`);
    hash.update(await readFile(file.source));
  }
  for (const dir of files.dirs) hash.update(`\0dir ${dir}\0`);
  return hash.digest('hex');
}

async function cachedResult(paths: ReturnType<typeof artifactPaths>, key: string, started: number): Promise<BuildResult | undefined> {
  try {
    const cache = JSON.parse(await readFile(paths.cache, 'utf8')) as { key: string; sha256: string };
    if (cache.key !== key) return undefined;
    const [bytes, manifestText] = await Promise.all([readFile(paths.artifact), readFile(paths.manifest, 'utf8')]);
    if (sha256(bytes) !== cache.sha256) return undefined;
    const manifest = JSON.parse(manifestText) as Manifest;
    return { artifact: paths.artifact, manifestPath: paths.manifest, size: bytes.length, sha256: cache.sha256, cached: true, durationMs: performance.now() - started, manifest };
  } catch {
    return undefined;
  }
}

async function compileModule(bytes: Uint8Array, what: string): Promise<WebAssembly.Module> {
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes as BufferSource);
  } catch (error) {
    throw new UserError(`The ${what} module is not valid WebAssembly: ${(error as Error).message}`);
  }
  const problems = checkContract(module, { bytes });
  if (problems.length > 0) {
    throw new UserError(`The ${what} module does not follow the wfn function contract:\n${problems.map((p) => `  - ${p}`).join('\n')}`, 'See docs/contract.md.');
  }
  return module;
}

export async function buildProject(config: ProjectConfig, options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const paths = artifactPaths(config);
  const toolchain = await getToolchain(config.language);
  const toolchainVersion = await toolchain.version(config);
  const files = await collectFiles(config);
  const key = await cacheKey(config, toolchainVersion, toolchain.sourceGlobs, options, files);
  if (!options.force) {
    const hit = await cachedResult(paths, key, started);
    if (hit) return hit;
  }

  await mkdir(paths.workDir, { recursive: true });
  const steps: BuildStep[] = [];
  const timed = async <T>(fn: () => Promise<T>) => {
    const t0 = performance.now();
    const value = await fn();
    return { value, ms: Math.round(performance.now() - t0) };
  };

  const level = options.optimize ?? config.build.optimize;
  log(`compiling ${config.language} (${toolchainVersion})`);
  const compiled = await timed(() => toolchain.compile({ config, optimize: level, workDir: paths.workDir, log, snapshot: options.snapshot ?? config.build.snapshot, version: toolchainVersion }));
  const raw = compiled.value.wasm;
  steps.push({ name: 'compile', ms: compiled.ms, size: raw.length });
  const rawModule = await compileModule(raw, 'compiled');

  // The steps the toolchain leaves to the pipeline run here; the others happened in compile().
  let current = raw;
  let snapshotInfo: Manifest['snapshot'] = { enabled: false };
  if (toolchain.steps.snapshot === 'toolchain') {
    if (compiled.value.snapshot) snapshotInfo = { enabled: true, initFunc: compiled.value.snapshot.initFunc };
  } else {
    const { exportsInitFunction, INIT_FUNC } = await import('./snapshot.js');
    const hasInit = exportsInitFunction(rawModule);
    const wantSnapshot = options.snapshot ?? config.build.snapshot ?? hasInit;
    if (wantSnapshot && hasInit) {
      log(`snapshotting (${INIT_FUNC})`);
      const { snapshotWasm } = await import('./snapshot.js');
      const snap = await timed(() => snapshotWasm(current));
      current = snap.value.wasm;
      steps.push({ name: 'snapshot', ms: snap.ms, size: current.length });
      snapshotInfo = { enabled: true, initFunc: INIT_FUNC, allowWasi: snap.value.allowWasi };
    } else if (wantSnapshot && options.snapshot === true) {
      log(`no snapshot: the module does not export ${INIT_FUNC}`);
    }
  }

  let tool = 'none';
  if (level !== 'none' && toolchain.steps.optimize === 'toolchain') {
    tool = 'the toolchain (already optimized)';
  } else if (level !== 'none') {
    log(`optimizing (wasm-opt -${level})`);
    const { optimizeWasm } = await import('./wasm-opt.js');
    const opt = await timed(() => optimizeWasm(current, level));
    current = opt.value.wasm;
    tool = opt.value.tool;
    steps.push({ name: 'optimize', ms: opt.ms, size: current.length, detail: tool });
  }

  // The bundled files go in before the last check, so the smoke request can read them.
  let filesBytes = 0;
  let smokeRaw = rawModule;
  if (config.files.length > 0) {
    const archive = await filesArchive(files);
    filesBytes = archive.length;
    log(`bundling ${describeFiles(files)}`);
    current = appendCustomSection(current, FILES_SECTION, archive);
    // The compiled module it is compared with sees the same files.
    if (!options.noSmoke) smokeRaw = await WebAssembly.compile(appendCustomSection(raw, FILES_SECTION, archive) as BufferSource);
  }

  const validated = await timed(async () => {
    const module = await compileModule(current, 'optimized');
    if (!options.noSmoke) {
      const { smokeTest } = await import('./smoke.js');
      await smokeTest(config, smokeRaw, module, log);
    }
    return module;
  });
  steps.push({ name: 'validate', ms: validated.ms, size: current.length });

  // Build facts for `wfn inspect`, in a custom section: information only, no host needs it.
  current = appendCustomSection(current, WFN_SECTION, new TextEncoder().encode(JSON.stringify({ language: config.language, snapshot: snapshotInfo.enabled ? snapshotInfo.initFunc : null, optimize: level, wfn: wfnVersion() })));
  const digest = sha256(current);
  const manifest: Manifest = {
    name: config.name,
    language: config.language,
    artifact: path.relative(config.dir, paths.artifact),
    sha256: digest,
    size: current.length,
    files: config.files.length > 0 ? { count: files.files.length, bytes: files.bytes, archiveBytes: filesBytes } : undefined,
    sizes: { raw: raw.length, snapshot: snapshotInfo.enabled ? (steps.find((s) => s.name === 'snapshot')?.size ?? raw.length) : undefined, optimized: current.length },
    snapshot: snapshotInfo,
    optimize: { level, tool },
    toolchain: compiled.value.toolchain,
    wfnVersion: wfnVersion(),
    steps,
    imports: WebAssembly.Module.imports(validated.value).map((i) => `${i.module}.${i.name}`),
    exports: WebAssembly.Module.exports(validated.value).map((e) => e.name),
    builtAt: new Date().toISOString(),
    cacheKey: key,
  };
  // The artifact is replaced atomically: a running `wfn dev` never reads half a module.
  await writeFileAtomic(paths.artifact, current);
  await writeFileAtomic(paths.manifest, JSON.stringify(manifest, null, 2) + '\n');
  await writeFileAtomic(paths.cache, JSON.stringify({ key, sha256: digest }) + '\n');
  return { artifact: paths.artifact, manifestPath: paths.manifest, size: current.length, sha256: digest, cached: false, durationMs: performance.now() - started, manifest };
}
