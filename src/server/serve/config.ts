/** Validation of function names and of the deploy config that comes with an upload. */
import { FUNCTION_NAME_PATTERN, functionNameProblem, variableProblem } from '../../config/names.js';
import type { Limits } from '../../config/types.js';
import type { FunctionConfig } from './types.js';
import { DEFAULT_OUTBOUND, type OutboundSettings } from '../../runtime/outbound/abi.js';
import { parseAllowEntry } from '../../runtime/outbound/policy.js';
import { STORE_NAME_PATTERN, type KvSettings } from '../../runtime/kv/abi.js';

/** Function names: the first path segment of their URL, and a file/object name in the store (the CLI checks the same rule). */
export const NAME_PATTERN = FUNCTION_NAME_PATTERN;

export class ConfigError extends Error {}

export function checkName(name: string): void {
  const problem = functionNameProblem(name);
  if (problem) throw new ConfigError(problem);
}
export const MAX_MEMORY_MIB = 4096;
export const MAX_TIMEOUT_MS = 15 * 60 * 1000;
export const MAX_CONCURRENCY = 1024;

function integer(value: unknown, what: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${what} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * The config JSON of a deploy: `{"env": {...}, "limits": {"memoryMiB": n, "timeoutMs": n}, "concurrency": n}`,
 * every key optional (limits default to the server's). Unknown keys are refused (typos must not pass silently).
 */
export function parseFunctionConfig(input: unknown, defaults: Limits): FunctionConfig {
  if (input === undefined || input === null) return { env: {}, limits: { ...defaults } };
  if (typeof input !== 'object' || Array.isArray(input)) throw new ConfigError('config must be a JSON object');
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!['env', 'limits', 'concurrency', 'outbound', 'kv', 'secrets'].includes(key)) throw new ConfigError(`unknown config key ${JSON.stringify(key)} (expected env, limits, concurrency, outbound, kv, secrets)`);
  }
  const env: Record<string, string> = {};
  if (raw.env !== undefined) {
    if (typeof raw.env !== 'object' || raw.env === null || Array.isArray(raw.env)) throw new ConfigError('config.env must be an object of strings');
    for (const [k, v] of Object.entries(raw.env)) {
      if (typeof v !== 'string') throw new ConfigError(`config.env: variable ${JSON.stringify(k)} must be a string`);
      // A value the environment cannot carry would make every call of the function fail.
      const problem = variableProblem(k, v);
      if (problem) throw new ConfigError(`config.env: ${problem}`);
      env[k] = v;
    }
  }
  const limits: Limits = { ...defaults };
  if (raw.limits !== undefined) {
    if (typeof raw.limits !== 'object' || raw.limits === null || Array.isArray(raw.limits)) throw new ConfigError('config.limits must be an object');
    const l = raw.limits as Record<string, unknown>;
    for (const key of Object.keys(l)) {
      if (key !== 'memoryMiB' && key !== 'timeoutMs') throw new ConfigError(`unknown config.limits key ${JSON.stringify(key)} (expected memoryMiB, timeoutMs)`);
    }
    if (l.memoryMiB !== undefined) limits.memoryMiB = integer(l.memoryMiB, 'config.limits.memoryMiB', 1, MAX_MEMORY_MIB);
    if (l.timeoutMs !== undefined) limits.timeoutMs = integer(l.timeoutMs, 'config.limits.timeoutMs', 1, MAX_TIMEOUT_MS);
  }
  const config: FunctionConfig = { env, limits };
  if (raw.concurrency !== undefined) config.concurrency = integer(raw.concurrency, 'config.concurrency', 1, MAX_CONCURRENCY);
  if (raw.outbound !== undefined) config.outbound = parseOutbound(raw.outbound);
  if (raw.kv !== undefined) config.kv = parseKv(raw.kv);
  return config;
}

/**
 * `config.secrets` of a deploy: `{"NAME": "value"}`. The values are kept apart from the
 * record (StoreBackend.putSecrets) and never echoed; error messages name keys, never values.
 */
export function parseSecrets(input: unknown): Record<string, string> {
  if (input === undefined || input === null || typeof input !== 'object' || Array.isArray(input)) return {};
  const raw = (input as Record<string, unknown>).secrets;
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new ConfigError('config.secrets must be an object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw new ConfigError(`config.secrets: variable ${JSON.stringify(k)} must be a string`);
    // The messages name the variable, never its value.
    const problem = variableProblem(k, v);
    if (problem) throw new ConfigError(`config.secrets: ${problem}`);
    out[k] = v;
  }
  return out;
}

/** `config.outbound`: `{"allow": [...], "timeoutMs": n, "maxResponseBytes": n, "maxCalls": n}` (wfn.toml's [outbound]). */
function parseOutbound(input: unknown): OutboundSettings {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ConfigError('config.outbound must be an object');
  const raw = input as Record<string, unknown>;
  const keys = ['allow', 'timeoutMs', 'maxResponseBytes', 'maxCalls'];
  for (const key of Object.keys(raw)) {
    if (!keys.includes(key)) throw new ConfigError(`unknown config.outbound key ${JSON.stringify(key)} (expected ${keys.join(', ')})`);
  }
  const allow = raw.allow ?? [];
  if (!Array.isArray(allow) || allow.length > 1000 || allow.some((e) => typeof e !== 'string')) throw new ConfigError('config.outbound.allow must be an array of origin strings');
  for (const entry of allow as string[]) {
    try {
      parseAllowEntry(entry);
    } catch (error) {
      throw new ConfigError(`config.outbound.allow: ${JSON.stringify(entry)}: ${(error as Error).message}`);
    }
  }
  return {
    allow: allow as string[],
    timeoutMs: raw.timeoutMs === undefined ? DEFAULT_OUTBOUND.timeoutMs : integer(raw.timeoutMs, 'config.outbound.timeoutMs', 1, MAX_TIMEOUT_MS),
    maxResponseBytes: raw.maxResponseBytes === undefined ? DEFAULT_OUTBOUND.maxResponseBytes : integer(raw.maxResponseBytes, 'config.outbound.maxResponseBytes', 0, 1024 * 1024 * 1024),
    maxCalls: raw.maxCalls === undefined ? DEFAULT_OUTBOUND.maxCalls : integer(raw.maxCalls, 'config.outbound.maxCalls', 0, 10000),
  };
}

/** Stores a function may name (far more than any function needs; bounds the record). */
const MAX_STORES = 64;

/** `config.kv`: `{"stores": ["default", ...]}` (wfn.toml's [kv]). */
function parseKv(input: unknown): KvSettings {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ConfigError('config.kv must be an object');
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (key !== 'stores') throw new ConfigError(`unknown config.kv key ${JSON.stringify(key)} (expected stores)`);
  }
  const stores = raw.stores ?? [];
  if (!Array.isArray(stores) || stores.length > MAX_STORES || stores.some((s) => typeof s !== 'string' || !STORE_NAME_PATTERN.test(s))) {
    throw new ConfigError(`config.kv.stores must be an array of at most ${MAX_STORES} store names (${STORE_NAME_PATTERN.source})`);
  }
  if (new Set(stores).size !== stores.length) throw new ConfigError('config.kv.stores names a store twice');
  return { stores: stores as string[] };
}

/** A canonical form, to tell whether a redeploy changes anything. */
export function sameConfig(a: FunctionConfig, b: FunctionConfig): boolean {
  const canon = (c: FunctionConfig) =>
    JSON.stringify([Object.entries(c.env).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)), c.limits.memoryMiB, c.limits.timeoutMs, c.concurrency ?? null, c.outbound ?? null, c.secrets ?? null, c.kv ?? null]);
  return canon(a) === canon(b);
}
