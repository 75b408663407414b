/** Reads wfn.toml: TOML syntax errors and schema errors both name the file, line and key. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { UserError } from '../util/errors.js';
import { didYouMean } from '../util/did-you-mean.js';
import { storeNameProblem, variableProblem } from './names.js';
import { WFN_TOML_SCHEMA } from './schema.js';
import { DEFAULT_LIMITS, type FileMapping, type Language, type OptimizeLevel, type ProjectConfig } from './types.js';
import { DEFAULT_OUTBOUND, type OutboundSettings } from '../runtime/outbound/abi.js';
import { parseAllowEntry } from '../runtime/outbound/policy.js';

export const CONFIG_FILE = 'wfn.toml';

type Schema = { [key: string]: any };

/** Finds the 1-based line where a key is defined (for messages); undefined when not found. */
export function locateKey(source: string, keyPath: string[]): number | undefined {
  const lines = source.split(/\r?\n/);
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const keyLine = (key: string) => new RegExp(`^\\s*["']?${escape(key)}["']?\\s*=`);
  if (keyPath.length === 1) {
    const tableHeader = new RegExp(`^\\s*\\[\\s*${escape(keyPath[0])}\\s*\\]`);
    let topLevel = true;
    for (let i = 0; i < lines.length; i++) {
      if (tableHeader.test(lines[i])) return i + 1;
      if (/^\s*\[/.test(lines[i])) topLevel = false;
      if (topLevel && keyLine(keyPath[0]).test(lines[i])) return i + 1;
    }
    return undefined;
  }
  const [table, key] = keyPath;
  let inTable = false;
  for (let i = 0; i < lines.length; i++) {
    const header = /^\s*\[\s*([^\]]+?)\s*\]/.exec(lines[i]);
    if (header) {
      inTable = header[1] === table;
      if (inTable && key === undefined) return i + 1;
      continue;
    }
    if (inTable && keyLine(key).test(lines[i])) return i + 1;
    if (!inTable && keyLine(`${table}.${key}`).test(lines[i])) return i + 1;
  }
  // The table itself (for errors about the whole table).
  for (let i = 0; i < lines.length; i++) if (new RegExp(`^\\s*\\[\\s*${escape(table)}\\s*\\]`).test(lines[i])) return i + 1;
  return undefined;
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a table';
  return `${typeof value === 'string' ? 'the string' : 'the value'} ${JSON.stringify(value)}`;
}

/** Validates a parsed value against the (small) subset of JSON Schema that WFN_TOML_SCHEMA uses. */
function validate(value: unknown, schema: Schema, keyPath: string[], errors: { path: string[]; message: string }[]): void {
  const where = keyPath.length ? `"${keyPath.join('.')}"` : 'the file';
  if (schema.enum) {
    if (!schema.enum.includes(value)) {
      const hint = typeof value === 'string' ? didYouMean(value, schema.enum) : undefined;
      errors.push({ path: keyPath, message: `${where} must be one of ${schema.enum.map((e: string) => JSON.stringify(e)).join(', ')}, not ${describe(value)}${hint ? `. Did you mean "${hint}"?` : ''}` });
    }
    return;
  }
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') errors.push({ path: keyPath, message: `${where} must be a string, not ${describe(value)}` });
      else if (schema.pattern && !new RegExp(schema.pattern).test(value)) {
        errors.push({ path: keyPath, message: `${where} is ${describe(value)}: ${schema.description ?? `it must match ${schema.pattern}`}` });
      }
      return;
    case 'boolean':
      if (typeof value !== 'boolean') errors.push({ path: keyPath, message: `${where} must be true or false, not ${describe(value)}` });
      return;
    case 'integer': {
      const n = typeof value === 'bigint' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n)) errors.push({ path: keyPath, message: `${where} must be a whole number, not ${describe(value)}` });
      else if (n < schema.minimum || n > schema.maximum) errors.push({ path: keyPath, message: `${where} must be between ${schema.minimum} and ${schema.maximum}, not ${n}` });
      return;
    }
    case 'array':
      if (!Array.isArray(value)) errors.push({ path: keyPath, message: `${where} must be an array, not ${describe(value)}` });
      else value.forEach((item, i) => validate(item, schema.items, [...keyPath.slice(0, 1), `${keyPath.at(-1)}[${i}]`].slice(-2), errors));
      return;
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        errors.push({ path: keyPath, message: `${where} must be a table, not ${describe(value)}` });
        return;
      }
      for (const req of schema.required ?? []) {
        if (!(req in value)) errors.push({ path: keyPath, message: `missing required key "${req}"` });
      }
      const known = Object.keys(schema.properties ?? {});
      for (const [key, child] of Object.entries(value)) {
        const childPath = [...keyPath, key];
        if (schema.properties?.[key]) validate(child, schema.properties[key], childPath, errors);
        else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') validate(child, schema.additionalProperties, childPath, errors);
        else {
          const hint = didYouMean(key, known);
          const table = keyPath.length ? `[${keyPath.join('.')}]` : 'the top level';
          errors.push({ path: childPath, message: `unknown key "${key}" in ${table}${hint ? `. Did you mean "${hint}"?` : `. Known keys: ${known.join(', ')}`}` });
        }
      }
    }
  }
}

/** What the schema cannot say: variables (and secrets' names) the function's environment can carry. */
function checkVariables(raw: Record<string, unknown>, errors: { path: string[]; message: string }[]): void {
  const env = raw.env;
  if (typeof env === 'object' && env !== null && !Array.isArray(env)) {
    for (const [name, value] of Object.entries(env)) {
      const problem = typeof value === 'string' ? variableProblem(name, value) : undefined;
      if (problem) errors.push({ path: ['env', name], message: `"env.${name}": ${problem}` });
    }
  }
  if (Array.isArray(raw.secrets)) {
    raw.secrets.forEach((name, i) => {
      const problem = typeof name === 'string' ? variableProblem(name, '') : undefined;
      if (problem) errors.push({ path: [`secrets[${i}]`], message: `"secrets[${i}]": ${problem}` });
    });
  }
}

/** Parses and validates wfn.toml text; `file` is used in messages. */
export function parseConfig(source: string, file: string): ProjectConfig {
  const rel = path.relative(process.cwd(), file) || file;
  let raw: Record<string, unknown>;
  try {
    raw = parse(source) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof TomlError) {
      const first = error.message.split('\n')[0].replace(/^Invalid TOML document:\s*/, '');
      throw new UserError(`${rel}:${error.line}:${error.column}: ${first}`, 'wfn.toml is TOML: https://toml.io');
    }
    throw error;
  }
  const errors: { path: string[]; message: string }[] = [];
  validate(raw, WFN_TOML_SCHEMA, [], errors);
  checkVariables(raw, errors);
  const files = fileMappings(raw.files, errors);
  if (errors.length === 0) checkAllowList(raw, errors);
  if (errors.length === 0) checkStores(raw, errors);
  if (errors.length > 0) {
    const lines = errors.map((e) => {
      const line = e.path.length ? locateKey(source, e.path.map((p) => p.replace(/\[\d+\]$/, ''))) : undefined;
      return `${rel}${line ? `:${line}` : ''}: ${e.message}`;
    });
    throw new UserError(lines.join('\n'), 'See docs/config.md for every key of wfn.toml.');
  }
  const build = (raw.build ?? {}) as Record<string, unknown>;
  const limits = (raw.limits ?? {}) as Record<string, unknown>;
  return {
    file,
    dir: path.dirname(file),
    name: raw.name as string,
    language: raw.language as Language,
    route: (raw.route as string | undefined) ?? '/',
    build: {
      optimize: (build.optimize as OptimizeLevel | undefined) ?? 'O3',
      snapshot: build.snapshot as boolean | undefined,
      compiler: build.compiler as string | undefined,
      main: build.main as string | undefined,
    },
    env: (raw.env ?? {}) as Record<string, string>,
    secrets: (raw.secrets ?? []) as string[],
    limits: {
      memoryMiB: Number(limits.memory ?? DEFAULT_LIMITS.memoryMiB),
      timeoutMs: Number(limits.timeout ?? DEFAULT_LIMITS.timeoutMs),
    },
    files,
    outbound: outboundSettings((raw.outbound ?? {}) as Record<string, unknown>),
    kv: { stores: [...((((raw.kv ?? {}) as Record<string, unknown>).stores as string[] | undefined) ?? [])] },
  };
}

/** `[kv] stores` names are unique and usable as `env.<name>` in JavaScript (each is one store and one binding). */
function checkStores(raw: Record<string, unknown>, errors: { path: string[]; message: string }[]): void {
  const stores = ((raw.kv ?? {}) as Record<string, unknown>).stores as string[] | undefined;
  const variables = [...Object.keys((raw.env ?? {}) as Record<string, unknown>), ...((raw.secrets ?? []) as string[])];
  const seen = new Set<string>();
  for (const [i, name] of (stores ?? []).entries()) {
    const problem = seen.has(name) ? 'named twice: each store is named once' : storeNameProblem(name, variables);
    if (problem) errors.push({ path: ['kv', `stores[${i}]`], message: `"kv.stores[${i}]" is ${JSON.stringify(name)}, ${problem}` });
    seen.add(name);
  }
}

/** Folders wfn writes or that are never a function's files: mapping them would bundle the build into itself. */
const UNMAPPABLE = new Set(['dist', '.wfn', 'node_modules', '.git']);

/**
 * `[files]`: what the schema cannot say (it has no "string or table" check of its own):
 * each key a normalized absolute path, each folder relative and inside the project.
 */
function fileMappings(value: unknown, errors: { path: string[]; message: string }[]): FileMapping[] {
  if (value === undefined) return [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return []; // the schema said so
  const out: FileMapping[] = [];
  for (const [mount, entry] of Object.entries(value)) {
    const where = `"files.${mount}"`;
    const fail = (message: string) => errors.push({ path: ['files', mount], message: `${where}: ${message}` });
    const spec = typeof entry === 'string' ? { dir: entry } : entry;
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
      fail(`must be a folder ("public/") or a table { dir = "public/" }, not ${describe(entry)}`);
      continue;
    }
    const known = ['dir', 'include', 'exclude'];
    const unknown = Object.keys(spec).find((k) => !known.includes(k));
    if (unknown) {
      fail(`unknown key "${unknown}" (known keys: ${known.join(', ')})`);
      continue;
    }
    const { dir, include = [], exclude = [] } = spec as { dir?: unknown; include?: unknown; exclude?: unknown };
    if (!/^\/([^/\0]+(\/[^/\0]+)*)?$/.test(mount) || mount.split('/').some((p) => p === '.' || p === '..')) {
      fail('the key is where the function sees the folder: "/" or an absolute path like "/templates" (no "." or ".." parts, no trailing "/")');
      continue;
    }
    if (typeof dir !== 'string' || dir === '') {
      fail('"dir" must be a project folder, e.g. "public/"');
      continue;
    }
    const norm = path.posix.normalize(dir.replace(/\\/g, '/')).replace(/\/$/, '') || '.';
    if (path.posix.isAbsolute(norm) || /^[A-Za-z]:/.test(norm) || norm === '..' || norm.startsWith('../')) {
      fail(`the folder ${JSON.stringify(dir)} must be inside the project (a relative path without "..")`);
      continue;
    }
    if (UNMAPPABLE.has(norm.split('/')[0])) {
      fail(`the folder ${JSON.stringify(dir)} is one wfn writes or skips (${[...UNMAPPABLE].join(', ')}): put the files in another folder`);
      continue;
    }
    const globs = (name: string, list: unknown): string[] | undefined => {
      if (!Array.isArray(list) || list.some((g) => typeof g !== 'string' || g === '')) {
        fail(`"${name}" must be an array of globs like "**/*.html"`);
        return undefined;
      }
      return list as string[];
    };
    const inc = globs('include', include);
    const exc = globs('exclude', exclude);
    if (!inc || !exc) continue;
    if (out.some((m) => m.mount === mount)) continue;
    out.push({ mount, dir: norm, include: inc, exclude: exc });
  }
  return out;
}

/** Each `[outbound] allow` entry must be an origin the hosts can match (policy.ts). */
function checkAllowList(raw: Record<string, unknown>, errors: { path: string[]; message: string }[]): void {
  const allow = ((raw.outbound ?? {}) as Record<string, unknown>).allow as string[] | undefined;
  for (const [i, entry] of (allow ?? []).entries()) {
    try {
      parseAllowEntry(entry);
    } catch (error) {
      errors.push({ path: ['outbound', `allow[${i}]`], message: `"outbound.allow[${i}]" is ${JSON.stringify(entry)}: ${(error as Error).message}` });
    }
  }
}

function outboundSettings(outbound: Record<string, unknown>): OutboundSettings {
  return {
    allow: (outbound.allow as string[] | undefined) ?? [...DEFAULT_OUTBOUND.allow],
    timeoutMs: Number(outbound.timeout_ms ?? DEFAULT_OUTBOUND.timeoutMs),
    maxResponseBytes: Number(outbound.max_response_bytes ?? DEFAULT_OUTBOUND.maxResponseBytes),
    maxCalls: Number(outbound.max_calls ?? DEFAULT_OUTBOUND.maxCalls),
  };
}

/** Loads <dir>/wfn.toml. */
export async function loadConfig(dir: string): Promise<ProjectConfig> {
  const file = path.resolve(dir, CONFIG_FILE);
  let source: string;
  try {
    source = await readFile(file, 'utf8');
  } catch {
    throw new UserError(`No ${CONFIG_FILE} in ${path.resolve(dir)}.`, 'Create a project with `wfn new <name> --lang assemblyscript`, or pass a .wasm file.');
  }
  return parseConfig(source, file);
}
