/** The artifact a target starts from: a project's build output, or a given .wasm. */
import path from 'node:path';
import type { Artifact } from '../target/types.js';
import { loadConfig } from '../config/load.js';
import { assertFunctionName } from '../config/names.js';
import { DEFAULT_LIMITS } from '../config/types.js';
import { DEFAULT_OUTBOUND } from '../runtime/outbound/abi.js';
import { compileFunction } from '../runtime/node/load.js';
import { readFile } from 'node:fs/promises';
import type { FunctionSource } from './resolve.js';

export interface ArtifactOverrides {
  name?: string;
  memoryMiB?: number;
  timeoutMs?: number;
  env?: Record<string, string>;
  log?(message: string): void;
  /** A module the target accepts as it is although it breaks the contract (e.g. one built for Fastly). */
  acceptsAsIs?(bytes: Uint8Array): boolean;
}

export async function artifactFrom(source: FunctionSource, overrides: ArtifactOverrides = {}): Promise<Artifact> {
  if (overrides.name !== undefined) assertFunctionName(overrides.name, '--name');
  if (source.kind === 'project') {
    const config = await loadConfig(source.dir);
    const { buildProject } = await import('../pipeline/build.js');
    const built = await buildProject(config, { log: overrides.log });
    return {
      name: overrides.name ?? config.name,
      wasmPath: built.artifact,
      env: { ...config.env, ...overrides.env },
      secrets: config.secrets,
      limits: { memoryMiB: overrides.memoryMiB ?? config.limits.memoryMiB, timeoutMs: overrides.timeoutMs ?? config.limits.timeoutMs },
      outbound: config.outbound,
      projectDir: source.dir,
    };
  }
  const limits = { memoryMiB: overrides.memoryMiB ?? DEFAULT_LIMITS.memoryMiB, timeoutMs: overrides.timeoutMs ?? DEFAULT_LIMITS.timeoutMs };
  // Refuse a non-conforming module before packaging it for anyone.
  const bytes = await readFile(source.path);
  if (!overrides.acceptsAsIs?.(bytes)) await compileFunction(bytes, source.path, { ...limits, fn: { route: '/', env: {} } });
  const base = path.basename(source.path, '.wasm').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^[^a-z]+/, '').slice(0, 63) || 'function';
  return { name: overrides.name ?? base, wasmPath: source.path, env: overrides.env ?? {}, secrets: [], limits, outbound: DEFAULT_OUTBOUND };
}
