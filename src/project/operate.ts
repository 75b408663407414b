/**
 * `wfn logs`, `ls`, `versions`, `rollback`, `rm`: what is deployed, through the target's
 * `TargetOperations` (passed in: services never import an adapter). The function is named as
 * deploy names it (--name, else wfn.toml's name); every destructive step first says where the
 * function lives and what will happen.
 */
import { assertFunctionName } from '../config/names.js';
import { loadConfig } from '../config/load.js';
import type { DeployedFunction, DeployedVersion, LogLine, OperateOptions, TargetAdapter, TargetOperations } from '../target/types.js';
import { UserError } from '../util/errors.js';
import { findProjectDir } from './resolve.js';

/** Where to operate what wfn deploys to a target that has no `operations`. */
const ELSEWHERE: Record<string, string> = {
  component: 'The component target ends at the .wasm component: operate it with the engine that runs it (wasmtime serve, jco serve, your host\'s own tooling).',
  spin: 'Operate Spin apps with their own tools: `spin cloud apps list` / `spin cloud logs` on Fermyon Cloud, `kubectl get spinapps` / `kubectl logs` on SpinKube, or the Spin engine you run.',
};

export function operationsOf(adapter: TargetAdapter, command: string): TargetOperations {
  if (adapter.operations) return adapter.operations;
  throw new UserError(`wfn ${command} does not operate the ${adapter.name} target.`, ELSEWHERE[adapter.name] ?? `Use the ${adapter.name} platform's own tools.`);
}

/** --name, else the name in the wfn.toml of the current folder (or above), as deploy names it. */
export async function resolveDeployedName(name: string | undefined, cwd = process.cwd()): Promise<string> {
  if (name !== undefined) {
    assertFunctionName(name, '--name');
    return name;
  }
  const dir = findProjectDir(cwd);
  if (!dir) throw new UserError('Which function? No wfn.toml in this folder or any folder above it.', 'Pass --name <function>, or run the command inside the project.');
  return (await loadConfig(dir)).name;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** --since: a duration back from now (30s, 10m, 2h, 1d) or an ISO 8601 date/time. */
export function parseSince(text: string, now = Date.now()): Date {
  const trimmed = text.trim();
  const relative = /^(\d+)([smhd])$/.exec(trimmed);
  if (relative) return new Date(now - Number(relative[1]) * UNITS[relative[2]]);
  // A date or a date-time (2026-12-02, 2026-12-02T13:00:00Z); a bare number is not one (Date.parse would take it as a year).
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) {
    const at = Date.parse(trimmed);
    if (!Number.isNaN(at)) {
      if (at > now) throw new UserError(`--since ${text} is in the future.`);
      return new Date(at);
    }
  }
  throw new UserError(`--since "${text}" is neither a duration nor a date.`, 'Use a duration back from now (30s, 10m, 2h, 1d) or an ISO date (2026-12-02, 2026-12-02T13:00:00Z).');
}

export async function listDeployed(adapter: TargetAdapter, options: OperateOptions): Promise<DeployedFunction[]> {
  return operationsOf(adapter, 'ls').list(options);
}

export async function listVersions(adapter: TargetAdapter, name: string, options: OperateOptions): Promise<DeployedVersion[]> {
  return operationsOf(adapter, 'versions').versions(name, options);
}

export interface DestructiveRequest extends OperateOptions {
  /** --yes: go ahead without asking. */
  yes: boolean;
  /** Asks the person at the terminal; absent when there is none (not a TTY, --json). */
  confirm?: (question: string) => Promise<boolean>;
}

/** Says where the function lives and what will happen, then asks unless --yes; false when the answer is no. */
async function goAhead(what: string, request: DestructiveRequest): Promise<boolean> {
  if (request.yes) {
    request.log(what);
    return true;
  }
  if (!request.confirm) throw new UserError(`Not going ahead without --yes: ${what}`, 'There is no terminal to ask for confirmation: pass --yes to confirm.');
  return request.confirm(`${what} Go ahead?`);
}

export interface RollbackOutcome {
  where: string;
  from?: string;
  to?: string;
  /** False when the person answered no. */
  done: boolean;
}

export async function rollbackDeployed(adapter: TargetAdapter, name: string, to: string | undefined, request: OperateOptions): Promise<RollbackOutcome> {
  const ops = operationsOf(adapter, 'rollback');
  const where = ops.describe(name, request);
  request.log(`${where}: making ${to === undefined ? 'the version before the live one' : `version ${to}`} live again`);
  const moved = await ops.rollback(name, to, request);
  return { where, ...moved, done: true };
}

export interface RemoveOutcome {
  where: string;
  removed: boolean;
  /** True when the person answered no: nothing was done. */
  cancelled: boolean;
}

export async function removeDeployed(adapter: TargetAdapter, name: string, request: DestructiveRequest): Promise<RemoveOutcome> {
  const ops = operationsOf(adapter, 'rm');
  const where = ops.describe(name, request);
  if (!(await goAhead(`This deletes ${where}, with all its versions.`, request))) return { where, removed: false, cancelled: true };
  const { removed } = await ops.remove(name, request);
  return { where, removed, cancelled: false };
}

export interface LogsRequest extends OperateOptions {
  follow: boolean;
  since?: Date;
  signal: AbortSignal;
  onLine(line: LogLine): void;
}

/** Prints the function's log lines (since `since`), then with `follow` the new ones until `signal` aborts. */
export async function streamLogs(adapter: TargetAdapter, name: string, request: LogsRequest): Promise<string> {
  const ops = operationsOf(adapter, 'logs');
  const where = ops.describe(name, request);
  request.log(`${request.follow ? 'following' : 'reading'} the logs of ${where}${request.follow ? ' (Ctrl-C to stop)' : ''}`);
  await ops.logs(name, request);
  return where;
}
