/** `wfn deploy`: package the artifact for a target, then (unless --dry-run) upload it. */
import type { Bundle, DeployResult, TargetAdapter } from '../target/types.js';
import { assertFunctionName, variableProblem } from '../config/names.js';
import { UserError } from '../util/errors.js';
import { artifactFrom } from './artifact.js';
import { resolveFunctionSource } from './resolve.js';

export interface DeployRequest {
  /** A .wasm path or a project folder (default "."). */
  source?: string;
  name?: string;
  dryRun: boolean;
  memoryMiB?: number;
  timeoutMs?: number;
  /** --env K=V pairs. */
  env: string[];
  /** Target-specific flags (url, role, serviceId, urlAuth...). */
  flags: Record<string, unknown>;
  log(message: string): void;
}

export function parseEnvPairs(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UserError(`--env "${pair}" is not KEY=VALUE.`);
    const [name, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
    const problem = variableProblem(name, value);
    if (problem) throw new UserError(`--env: ${problem}.`);
    env[name] = value;
  }
  return env;
}

export interface DeployOutcome {
  bundle: Bundle;
  result?: DeployResult;
}

export async function deploy(adapter: TargetAdapter, request: DeployRequest): Promise<DeployOutcome> {
  // Before anything else: the name becomes part of paths that packaging deletes and writes.
  if (request.name !== undefined) assertFunctionName(request.name, '--name');
  const source = resolveFunctionSource(request.source);
  const artifact = await artifactFrom(source, {
    acceptsAsIs: adapter.acceptsAsIs,
    name: request.name,
    memoryMiB: request.memoryMiB,
    timeoutMs: request.timeoutMs,
    env: parseEnvPairs(request.env),
    log: request.log,
  });
  request.log(`packaging ${artifact.name} for ${adapter.name}`);
  const bundle = await adapter.package(artifact);
  for (const warning of bundle.warnings) request.log(`warning: ${warning}`);
  if (bundle.overLimit && !request.dryRun) {
    throw new UserError(`Cannot deploy ${artifact.name} to ${adapter.name}: ${bundle.overLimit}.`, 'Shrink the function or the files it bundles ([files] exclude in wfn.toml), or serve large files from object storage.');
  }
  if (request.dryRun) return { bundle };
  request.log(`deploying ${artifact.name} to ${adapter.name}`);
  const result = await adapter.deploy(bundle, { env: process.env, flags: request.flags, log: request.log });
  return { bundle, result };
}

/**
 * `wfn build --target X`: packages the project for X as deploy would (without deploying) and
 * fails, naming the provider's limit, when X would refuse the package (e.g. bundled files
 * made it too big).
 */
export async function checkTargetLimits(adapter: TargetAdapter, source: string | undefined, log: (message: string) => void): Promise<Bundle> {
  const { bundle } = await deploy(adapter, { source, dryRun: true, env: [], flags: {}, log });
  if (bundle.overLimit) {
    throw new UserError(`The package for ${adapter.name} is too big: ${bundle.overLimit}.`, 'Exclude files the function does not read ([files] exclude in wfn.toml), or serve large files from object storage.');
  }
  return bundle;
}
