/** The artifact a target starts from: a project's build output, or a given .wasm. */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { loadConfig } from '../config/load.js';
import { assertFunctionName } from '../config/names.js';
import { DEFAULT_LIMITS } from '../config/types.js';
import { DEFAULT_OUTBOUND, type OutboundSettings } from '../runtime/outbound/abi.js';
import type { KvSettings } from '../runtime/kv/abi.js';
import type { BuildResult } from '../pipeline/build.js';
import { compileFunction } from '../runtime/node/load.js';
import type { Artifact } from '../target/types.js';
import type { FunctionSource } from './resolve.js';

export interface ArtifactOverrides {
  name?: string;
  memoryMiB?: number;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** For a .wasm: the route it is mounted on (a project's comes from wfn.toml). */
  route?: string;
  /** For a .wasm: its [outbound] (a project's comes from wfn.toml; none = no calls). */
  outbound?: OutboundSettings;
  /** For a .wasm: its [kv] stores (a project's come from wfn.toml; none = every open is denied). */
  kv?: KvSettings;
  log?(message: string): void;
  /** A module the target accepts as it is although it breaks the contract (e.g. one built for Fastly). */
  acceptsAsIs?(bytes: Uint8Array): boolean;
  /** Skip the up-front contract check of a .wasm: the caller loads it through the runtime, which checks it anyway. */
  checkedByCaller?: boolean;
  /**
   * A dev build (`wfn dev`): wasm-opt at the light level O1 instead of the configured one
   * ("none" stays none), so a save costs less; `wfn build` and `wfn deploy` keep the full level.
   */
  dev?: boolean;
}

/** The level of a dev build: light, unless the project turned optimization off. */
export const DEV_OPTIMIZE = 'O1';

/** An artifact with what `wfn dev` needs beside it. */
export interface BuiltArtifact {
  artifact: Artifact;
  /** Route prefix the function is mounted on (wfn.toml `route`, "/" for a .wasm). */
  route: string;
  /** A project's build (absent for a .wasm). */
  build?: BuildResult;
}

/** Builds a project (through the content-hash cache) or takes a .wasm as it is: the one place an artifact comes from. */
export async function buildArtifact(source: FunctionSource, overrides: ArtifactOverrides = {}): Promise<BuiltArtifact> {
  if (overrides.name !== undefined) assertFunctionName(overrides.name, '--name');
  if (source.kind === 'project') {
    const config = await loadConfig(source.dir);
    const { buildProject } = await import('../pipeline/build.js');
    const optimize = overrides.dev && config.build.optimize !== 'none' ? DEV_OPTIMIZE : undefined;
    const build = await buildProject(config, { log: overrides.log, optimize });
    const artifact: Artifact = {
      name: overrides.name ?? config.name,
      wasmPath: build.artifact,
      env: { ...config.env, ...overrides.env },
      secrets: config.secrets,
      limits: { memoryMiB: overrides.memoryMiB ?? config.limits.memoryMiB, timeoutMs: overrides.timeoutMs ?? config.limits.timeoutMs },
      outbound: config.outbound,
      kv: config.kv,
      projectDir: source.dir,
    };
    return { artifact, route: config.route, build };
  }
  const limits = { memoryMiB: overrides.memoryMiB ?? DEFAULT_LIMITS.memoryMiB, timeoutMs: overrides.timeoutMs ?? DEFAULT_LIMITS.timeoutMs };
  if (!overrides.checkedByCaller) {
    // Refuse a non-conforming module before packaging it for anyone.
    const bytes = await readFile(source.path);
    if (!overrides.acceptsAsIs?.(bytes)) await compileFunction(bytes, source.path, { ...limits, fn: { route: '/', env: {} } });
  }
  const base = path.basename(source.path, '.wasm').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').slice(0, 63) || 'function';
  return { artifact: { name: overrides.name ?? base, wasmPath: source.path, env: overrides.env ?? {}, secrets: [], limits, outbound: overrides.outbound ?? DEFAULT_OUTBOUND, ...(overrides.kv ? { kv: overrides.kv } : {}) }, route: overrides.route ?? '/' };
}

export async function artifactFrom(source: FunctionSource, overrides: ArtifactOverrides = {}): Promise<Artifact> {
  return (await buildArtifact(source, overrides)).artifact;
}
