/**
 * Runs the real `workerd` (npm package) on a bundle's workerd.capnp, on 127.0.0.1 and a port
 * the kernel picks. `--control-fd` makes workerd report the port once it listens, so
 * startup waits exactly until it can take requests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ToolchainMissingError, UserError } from '../../src/util/errors.js';
import { npmBin } from '../../src/util/paths.js';

export interface WorkerdOptions {
  /** The environment workerd runs with (secrets are read from it by `fromEnvironment`). */
  env: NodeJS.ProcessEnv;
  /** workerd's own output, line by line (console.log/error of the Worker, workerd errors). */
  output(line: string): void;
  startupTimeoutMs?: number;
  /** More `workerd serve` options (e.g. --external-addr for the KV services). */
  args?: string[];
}

export interface WorkerdProcess {
  port: number;
  /** Resolves when the process has exited (for any reason). */
  exited: Promise<void>;
  readonly alive: boolean;
  stop(): Promise<void>;
}

/** Live workerd children: killed if this process exits without closing them (process.exit, a crash). */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

export function workerdBin(): string {
  const bin = npmBin('workerd');
  if (!existsSync(bin)) throw new ToolchainMissingError('workerd', 'npm install workerd (it is a dependency of wfn; reinstall wfn).');
  return bin;
}

function lines(stream: NodeJS.ReadableStream | null, each: (line: string) => void): void {
  if (!stream) return;
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    rest += chunk;
    const parts = rest.split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) each(line);
  });
  stream.on('end', () => {
    if (rest) each(rest);
    rest = '';
  });
}

export async function startWorkerd(configFile: string, options: WorkerdOptions): Promise<WorkerdProcess> {
  const child: ChildProcess = spawn(
    workerdBin(),
    ['serve', path.basename(configFile), '--socket-addr', 'http=127.0.0.1:0', '--control-fd', '3', ...(options.args ?? [])],
    { cwd: path.dirname(configFile), stdio: ['ignore', 'pipe', 'pipe', 'pipe'], env: options.env },
  );
  track(child);
  let alive = true;
  const early: string[] = [];
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      alive = false;
      resolve();
    });
    child.once('error', () => {
      alive = false;
      resolve();
    });
  });
  let listening = false;
  const onOutput = (line: string) => {
    if (!listening) early.push(line);
    options.output(line);
  };
  lines(child.stdout, onOutput);
  lines(child.stderr, onOutput);

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new UserError(`workerd did not start listening within ${options.startupTimeoutMs ?? 15000} ms.`, early.join('\n') || undefined));
    }, options.startupTimeoutMs ?? 15000);
    lines(child.stdio[3] as NodeJS.ReadableStream, (line) => {
      try {
        const message = JSON.parse(line) as { event?: string; socket?: string; port?: number };
        if (message.event === 'listen' && message.socket === 'http' && typeof message.port === 'number') {
          clearTimeout(timer);
          listening = true;
          resolve(message.port);
        }
      } catch {
        // not a control message
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new UserError(`workerd exited before it was ready (config ${configFile}).`, early.join('\n').trim() || undefined));
    });
  });

  return {
    port,
    exited,
    get alive() {
      return alive;
    },
    async stop() {
      if (alive) child.kill('SIGKILL');
      await exited;
    },
  };
}
