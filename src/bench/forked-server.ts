/**
 * Starts a server under benchmark in its own process (server-process.ts, forked, IPC): it
 * reports its URL when ready, answers stats requests (RSS, heap, instantiate times) and
 * closes on request. Also the one-off request that captures a server's exact answer.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { siblingFile } from '../util/paths.js';
import type { BareResponse, TargetStats } from './server-process.js';

export type TargetKind = 'serve' | 'bare' | 'seed' | 'seed-optimizing';

export interface BenchTarget {
  kind: TargetKind;
  url: string;
  pid: number;
  stats(): Promise<TargetStats>;
  close(): Promise<void>;
}

/** The server-process script: beside this file when built, else the built copy in lib/. */
const targetScript = () => siblingFile(import.meta.url, 'server-process', 'run');

/** Starts a server under benchmark in its own process. */
export function startTarget(kind: TargetKind, file: string): Promise<BenchTarget> {
  // seed-optimizing: V8 compiles every function with its optimizing tier up front, as Wasmtime (Cranelift) did in the seed.
  const v8Flags = kind === 'seed-optimizing' ? ['--no-liftoff', '--no-wasm-lazy-compilation'] : [];
  const child: ChildProcess = fork(targetScript(), [kind === 'seed-optimizing' ? 'seed' : kind, file], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv: ['--expose-gc', ...v8Flags],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`bench target ${kind} exited with ${code}`)));
    child.once('message', (msg: { type: string; url: string }) => {
      if (msg.type !== 'ready') return reject(new Error(`unexpected message from bench target: ${JSON.stringify(msg)}`));
      child.removeAllListeners('exit');
      resolve({
        kind,
        url: msg.url,
        pid: child.pid!,
        stats: () =>
          new Promise((res) => {
            child.once('message', (m: TargetStats) => res(m));
            child.send({ type: 'stats' });
          }),
        close: () =>
          new Promise((res) => {
            const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
            child.once('exit', () => {
              clearTimeout(timer);
              res();
            });
            child.send({ type: 'close' });
          }),
      });
    });
  });
}

/** One request on a fresh connection: the server's exact status, headers (minus framing ones) and body. */
export function fetchOnce(url: string): Promise<BareResponse> {
  return new Promise((resolve, reject) => {
    httpRequest(url, { agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const skip = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
        const headers: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (!skip.has(res.rawHeaders[i].toLowerCase())) headers.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
        resolve({ status: res.statusCode ?? 0, headers, bodyBase64: Buffer.concat(chunks).toString('base64') });
      });
    })
      .on('error', reject)
      .end();
  });
}

