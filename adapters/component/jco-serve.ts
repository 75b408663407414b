/**
 * Runs `jco serve` (npm, a dependency of wfn) on a component: jco transpiles it to JavaScript
 * and serves wasi:http/incoming-handler on node:http with preview2-shim, each request in a
 * fresh worker and component instance (`--isolate-requests worker`). Bound to 127.0.0.1 on a
 * free port; its own process group, so stopping it also ends the Node process it spawns.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../src/util/errors.js';

export interface JcoServeOptions {
  /** jco's output and the component's stderr, line by line. */
  output(line: string): void;
  /** Workers kept ready (each serves one request, then is replaced). */
  poolSize?: number;
  startupTimeoutMs?: number;
}

export interface JcoServeProcess {
  port: number;
  /** The jco process, leader of its process group. */
  pid: number;
  exited: Promise<void>;
  readonly alive: boolean;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);

/** jco's CLI script (its package exports only the API, so found from the API's entry). */
export function jcoCli(): string {
  return path.join(path.dirname(require.resolve('@bytecodealliance/jco')), 'jco.js');
}

/** A port the kernel has free now (jco serve takes a fixed --port). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Live children (their process groups): killed if this process exits without stopping them. */
const live = new Set<number>();
let exitHookInstalled = false;
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
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

export async function startJcoServe(componentPath: string, options: JcoServeOptions): Promise<JcoServeProcess> {
  const port = await freePort();
  // jco's transpiled output goes to a folder of ours, removed when it stops (a killed jco cannot clean up).
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'wfn-jco-serve-'));
  const child: ChildProcess = spawn(
    process.execPath,
    [jcoCli(), 'serve', componentPath, '--host', '127.0.0.1', '--port', String(port),
      '--isolate-requests', 'worker', '--isolate-worker-pool-size', String(options.poolSize ?? 4), '--jco-dir', outDir],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  const pid = child.pid;
  if (pid === undefined) throw new UserError('jco serve could not be started.');
  live.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const p of live) killGroup(p);
    });
  }
  let alive = true;
  const exited = new Promise<void>((resolve) => {
    const done = () => {
      alive = false;
      live.delete(pid);
      resolve();
    };
    child.once('exit', done);
    child.once('error', done);
  });
  const early: string[] = [];
  let listening = false;
  let ready: () => void = () => {};
  const onOutput = (line: string) => {
    if (!listening) {
      early.push(line);
      if (line.startsWith('Server listening @')) ready();
      return;
    }
    options.output(line);
  };
  lines(child.stdout, onOutput);
  lines(child.stderr, onOutput);
  const stop = async () => {
    killGroup(pid);
    await exited;
    await rm(outDir, { recursive: true, force: true });
  };
  const timeoutMs = options.startupTimeoutMs ?? 60_000;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new UserError(`jco serve did not start listening within ${timeoutMs} ms.`, early.join('\n') || undefined)), timeoutMs);
      ready = () => {
        clearTimeout(timer);
        listening = true;
        resolve();
      };
      void exited.then(() => {
        clearTimeout(timer);
        reject(new UserError('jco serve exited before it was ready.', early.join('\n').trim() || undefined));
      });
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    pid,
    exited,
    get alive() {
      return alive;
    },
    stop,
  };
}
