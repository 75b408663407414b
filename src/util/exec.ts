/**
 * The one way wfn runs a program to completion: no shell, output captured, never a throw for
 * a non-zero exit or a program that cannot start (the caller turns output into a UserError);
 * execChecked for the internal tools where any failure is an Error. Also: finding programs on PATH.
 * (Long-running children, workerd and the bench's server processes, are spawned where they are managed.)
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
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
  /** Bytes for the child's stdin (default: none, stdin closed). */
  input?: Uint8Array;
  /** Kill the child after this long (default: no limit). */
  timeoutMs?: number;
  /** Sees stderr as it arrives (live progress), besides collecting it. */
  onStderr?(chunk: string): void;
}

/** Runs `file` with `args` (no shell) and collects its output. */
export function execCapture(file: string, args: string[], options: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: [options.input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let startError: string | undefined;
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      err.push(chunk);
      options.onStderr?.(chunk.toString('utf8'));
    });
    child.on('error', (error) => {
      startError = error.message;
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code: startError ? null : code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), startError });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(options.input);
    }
  });
}

/** Runs an internal tool that must succeed: any failure is an Error naming `label` with the first lines of its output. */
export async function execChecked(file: string, args: string[], options: ExecOptions & { label?: string } = {}): Promise<ExecResult> {
  const r = await execCapture(file, args, options);
  if (r.code === 0) return r;
  const why = r.startError ?? (r.stderr.trim() || r.stdout.trim() || `exit code ${r.code}`);
  throw new Error(`${options.label ?? file} failed: ${why.split('\n').slice(0, 20).join('\n')}`);
}

/** The first line a `--version` prints, or undefined when the program cannot run. */
export async function versionOf(file: string, args = ['--version']): Promise<string | undefined> {
  const r = await execCapture(file, args, { timeoutMs: 15_000 });
  if (r.code !== 0) return undefined;
  return (r.stdout.trim() || r.stderr.trim()).split('\n')[0];
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
