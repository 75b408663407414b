/**
 * Running compilers as child processes: capture their output, never throw on a non-zero
 * exit (the caller turns compiler output into a UserError), and find executables on PATH.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface ExecResult {
  /** Exit code; null when killed by a signal or when the program could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  startError?: string;
}

export interface ExecOptions {
  cwd?: string;
  /** The child's whole environment (pass `{ ...process.env, X: 'y' }` to extend). */
  env?: NodeJS.ProcessEnv;
  /** Kill the child after this long (default: no limit). */
  timeoutMs?: number;
}

/** Runs `file` with `args` (no shell) and collects its output. */
export function execCapture(file: string, args: string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let startError: string | undefined;
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error) => {
      startError = error.message;
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({
        code: startError ? null : code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        startError,
      });
    });
  });
}

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Every `name` executable on PATH, in PATH order, without duplicates (same real file). */
export function findAllOnPath(name: string, pathVar = process.env.PATH ?? ''): string[] {
  const found: string[] = [];
  const seen = new Set<string>();
  for (const dir of pathVar.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (!isExecutable(candidate)) continue;
    // rustup's proxies are all one binary: dedupe by real path only for plain symlinks to the same name.
    let key = candidate;
    try {
      const real = realpathSync(candidate);
      if (path.basename(real) === name) key = real;
    } catch {
      /* keep the candidate itself as the key */
    }
    if (seen.has(key)) continue;
    seen.add(key);
    found.push(candidate);
  }
  return found;
}

export function isWritableDir(dir: string | undefined): boolean {
  if (!dir) return false;
  try {
    accessSync(dir, constants.W_OK);
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** True when tools that keep caches under $HOME (go, cargo) can use it. */
export function homeIsUsable(env: NodeJS.ProcessEnv = process.env): boolean {
  return isWritableDir(env.HOME);
}

/** A per-user scratch folder for compiler caches when $HOME cannot hold them. */
export function fallbackCacheDir(tool: string): string {
  let user = 'user';
  try {
    user = os.userInfo().username || String(process.getuid?.() ?? 'user');
  } catch {
    /* no passwd entry (containers): keep the default */
  }
  return path.join(os.tmpdir(), `wfn-${user}`, tool);
}
