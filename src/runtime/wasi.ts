/**
 * A WASI preview1 host in pure TypeScript, entirely in memory: stdin/stdout/stderr
 * buffers, environment, args, clocks, random, proc_exit. The filesystem is the function's
 * bundled files, read-only (wasi-fs.ts over files.ts), when it has any; otherwise there are no
 * preopened directories and every path call fails with EBADF. No sockets
 * (ENOTSOCK on stdio, EBADF elsewhere). WebAssembly/wasi-testsuite's programs that need no
 * filesystem pass (test/runtime/wasi-testsuite.test.ts).
 *
 * Platform-neutral on purpose (no node:* imports): esbuild bundles this very file into
 * the Cloudflare Worker and the Lambda handler. Not node:wasi: it caches the memory's
 * backing store and breaks after memory.grow (docs/architecture.md, src/runtime/).
 */

import type { FileTree } from './files.js';
import { ReadOnlyFs } from './wasi-fs.js';

export const ERRNO = {
  SUCCESS: 0,
  BADF: 8,
  FAULT: 21,
  FBIG: 22,
  INVAL: 28,
  NOSYS: 52,
  NOTSOCK: 57,
  SPIPE: 70,
} as const;

/** Every function of wasi_snapshot_preview1 (the contract allows these imports and no others). */
export const PREVIEW1_FUNCTIONS = [
  'args_get', 'args_sizes_get', 'environ_get', 'environ_sizes_get', 'clock_res_get', 'clock_time_get',
  'fd_advise', 'fd_allocate', 'fd_close', 'fd_datasync', 'fd_fdstat_get', 'fd_fdstat_set_flags',
  'fd_fdstat_set_rights', 'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'fd_pread',
  'fd_prestat_get', 'fd_prestat_dir_name', 'fd_pwrite', 'fd_read', 'fd_readdir', 'fd_renumber', 'fd_seek',
  'fd_sync', 'fd_tell', 'fd_write', 'path_create_directory', 'path_filestat_get', 'path_filestat_set_times',
  'path_link', 'path_open', 'path_readlink', 'path_remove_directory', 'path_rename', 'path_symlink',
  'path_unlink_file', 'poll_oneoff', 'proc_exit', 'proc_raise', 'sched_yield', 'random_get', 'sock_accept',
  'sock_recv', 'sock_send', 'sock_shutdown',
] as const;

/** Thrown by proc_exit to unwind the guest; the host catches it. */
export class WasiExit extends Error {
  constructor(readonly code: number) {
    super(`proc_exit(${code})`);
    this.name = 'WasiExit';
  }
}

export interface WasiOptions {
  args: string[];
  env: [string, string][];
  stdin: Uint8Array;
  /** Upper bound for stdout (and separately stderr); writes past it fail with EFBIG. */
  maxOutputBytes?: number;
  /** The bundled files (files.ts filesOf), preopened read-only from fd 3 on. */
  files?: FileTree;
}

const FILETYPE_CHARACTER_DEVICE = 2;
const ALL_RIGHTS = 0x1fffffffn;
const DEFAULT_MAX_OUTPUT = 64 * 1024 * 1024;

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** A growable byte sink: avoids an array of thousands of small chunks for chatty guests. */
class ByteSink {
  // Allocated on first write: most functions never write to stderr.
  private buf = EMPTY;
  length = 0;
  push(bytes: Uint8Array): void {
    const need = this.length + bytes.length;
    if (need > this.buf.length) {
      let size = Math.max(4096, this.buf.length * 2);
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    this.buf.set(bytes, this.length);
    this.length = need;
  }
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** NUL-terminated strings in one buffer, with each one's offset (args and environ layout). */
export interface StringTable {
  bytes: Uint8Array;
  offsets: number[];
}

const NO_STRINGS: StringTable = { bytes: EMPTY, offsets: [] };

// One encode for the whole table (per-string encodes dominated the host's per-request cost).
export function encodeStrings(items: string[]): StringTable {
  if (items.length === 0) return NO_STRINGS;
  let text = '';
  for (const item of items) {
    if (item.includes('\0')) throw new Error('WASI args and environment strings cannot contain NUL');
    text += item + '\0';
  }
  return tableOf(encoder.encode(text), items.length);
}

/** The environment as `KEY=value` strings, built straight into one buffer (no array of joined strings). */
export function encodeEnviron(env: [string, string][]): StringTable {
  if (env.length === 0) return NO_STRINGS;
  let text = '';
  for (const [k, v] of env) {
    if (k.includes('\0') || v.includes('\0')) throw new Error('WASI args and environment strings cannot contain NUL');
    text += k + '=' + v + '\0';
  }
  return tableOf(encoder.encode(text), env.length);
}

function tableOf(bytes: Uint8Array, count: number): StringTable {
  const offsets: number[] = new Array(count);
  let start = 0;
  let n = 0;
  for (let i = bytes.indexOf(0); i >= 0; i = bytes.indexOf(0, i + 1)) {
    offsets[n++] = start;
    start = i + 1;
  }
  return { bytes, offsets };
}

/**
 * One host serves many invocations, one at a time: the import functions are made once (closures
 * per request were a third of the invoke path's garbage, profiled with --cpu-prof) and `reset`
 * gives each invocation its own argv, environment, stdin, output buffers and descriptors.
 */
export class WasiHost {
  private memory: WebAssembly.Memory | undefined;
  private stdin: Uint8Array = EMPTY;
  private stdinOffset = 0;
  private out = new ByteSink();
  private err = new ByteSink();
  private readonly maxOutput: number;
  private argv: StringTable = NO_STRINGS;
  private environ: StringTable = NO_STRINGS;
  private readonly files: FileTree | undefined;
  private fs: ReadOnlyFs | undefined;
  private fsImports: Record<string, (...args: any[]) => unknown> = {};
  /** The code passed to proc_exit, or null when the guest has not called it. */
  exitCode: number | null = null;
  readonly imports: { wasi_snapshot_preview1: Record<string, (...args: never[]) => unknown> };

  constructor(options: WasiOptions) {
    this.maxOutput = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    this.files = options.files;
    const imports = this.buildImports();
    if (options.files) this.mountFiles(imports);
    this.imports = { wasi_snapshot_preview1: imports };
    this.reset(options);
  }

  /** Starts a new invocation on this host: nothing of the previous one is visible to the next. */
  reset(options: Pick<WasiOptions, 'args' | 'env' | 'stdin'> & { environ?: StringTable }): void {
    this.memory = undefined;
    this.stdin = options.stdin;
    this.stdinOffset = 0;
    // New sinks, never a reused buffer: the previous response's body may still be a view of it.
    this.out = new ByteSink();
    this.err = new ByteSink();
    this.argv = encodeStrings(options.args);
    this.environ = options.environ ?? encodeEnviron(options.env);
    this.exitCode = null;
    if (this.files) {
      this.fs = new ReadOnlyFs(this.files, { view: () => this.view(), bytes: () => this.bytes() });
      this.fsImports = this.fs.imports() as Record<string, (...args: any[]) => unknown>;
    }
  }

  /**
   * Routes the descriptor calls of the files' descriptors to the filesystem: the stdio
   * answers stay the host's, every other preview1 call that takes a path or a descriptor
   * goes to the filesystem (which answers EBADF for a descriptor it does not hold).
   * The filesystem is the current invocation's (`reset` makes a new one).
   */
  private mountFiles(imports: Record<string, (...args: never[]) => unknown>): void {
    const probe = new ReadOnlyFs(this.files!, { view: () => this.view(), bytes: () => this.bytes() });
    const shared = new Set(['fd_write', 'fd_read', 'fd_fdstat_get', 'fd_fdstat_set_flags', 'fd_filestat_get', 'fd_close', 'fd_sync', 'fd_datasync', 'fd_seek', 'fd_tell']);
    for (const name of Object.keys(probe.imports())) {
      const own = imports[name] as (...args: any[]) => unknown;
      imports[name] = (
        shared.has(name)
          ? (fd: number, ...rest: unknown[]) => (this.fs!.has(fd) ? this.fsImports[name](fd, ...rest) : own(fd, ...rest))
          : (...args: unknown[]) => this.fsImports[name](...args)
      ) as (...args: never[]) => unknown;
    }
  }

  bind(memory: WebAssembly.Memory | undefined): void {
    this.memory = memory;
  }

  stdout(): Uint8Array {
    return this.out.bytes();
  }

  stderr(): Uint8Array {
    return this.err.bytes();
  }

  /** A line of the host's own in the function's log (e.g. a failed outbound call). */
  appendStderr(text: string): void {
    this.err.push(encoder.encode(text));
  }

  // Views are made per call: memory.grow detaches the previous ArrayBuffer.
  private view(): DataView {
    if (!this.memory) throw new Error('WasiHost: memory not bound (call bind() after instantiation)');
    return new DataView(this.memory.buffer);
  }

  private bytes(): Uint8Array {
    return new Uint8Array(this.view().buffer);
  }

  private writeStrings(table: StringTable, ptrs: number, buf: number): number {
    const view = this.view();
    this.bytes().set(table.bytes, buf);
    for (let i = 0; i < table.offsets.length; i++) view.setUint32(ptrs + i * 4, buf + table.offsets[i], true);
    return ERRNO.SUCCESS;
  }

  /** The iovec array, or undefined when it lies past the end of memory (EFAULT). */
  private iovecs(iovs: number, count: number): { ptr: number; len: number }[] | undefined {
    const view = this.view();
    if (iovs + count * 8 > view.byteLength) return undefined;
    const list = [];
    for (let i = 0; i < count; i++) {
      list.push({ ptr: view.getUint32(iovs + i * 8, true), len: view.getUint32(iovs + i * 8 + 4, true) });
    }
    return list;
  }

  private buildImports(): Record<string, (...args: never[]) => unknown> {
    const nosys = () => ERRNO.NOSYS;
    const badf = () => ERRNO.BADF;
    const isStdio = (fd: number) => fd >= 0 && fd <= 2;
    const imports: Record<string, (...args: any[]) => unknown> = {};
    for (const name of PREVIEW1_FUNCTIONS) imports[name] = name.startsWith('path_') ? badf : nosys;

    Object.assign(imports, {
      args_sizes_get: (argcPtr: number, sizePtr: number) => {
        const view = this.view();
        view.setUint32(argcPtr, this.argv.offsets.length, true);
        view.setUint32(sizePtr, this.argv.bytes.length, true);
        return ERRNO.SUCCESS;
      },
      args_get: (ptrs: number, buf: number) => this.writeStrings(this.argv, ptrs, buf),
      environ_sizes_get: (countPtr: number, sizePtr: number) => {
        const view = this.view();
        view.setUint32(countPtr, this.environ.offsets.length, true);
        view.setUint32(sizePtr, this.environ.bytes.length, true);
        return ERRNO.SUCCESS;
      },
      environ_get: (ptrs: number, buf: number) => this.writeStrings(this.environ, ptrs, buf),

      clock_res_get: (id: number, out: number) => {
        if (id > 3) return ERRNO.INVAL;
        this.view().setBigUint64(out, 1000n, true);
        return ERRNO.SUCCESS;
      },
      clock_time_get: (id: number, _precision: bigint, out: number) => {
        if (id > 3) return ERRNO.INVAL;
        this.view().setBigUint64(out, clockNanos(id), true);
        return ERRNO.SUCCESS;
      },
      random_get: (buf: number, len: number) => {
        const mem = this.bytes();
        // getRandomValues takes at most 65536 bytes per call.
        for (let at = 0; at < len; at += 65536) {
          crypto.getRandomValues(mem.subarray(buf + at, buf + Math.min(len, at + 65536)));
        }
        return ERRNO.SUCCESS;
      },

      fd_write: (fd: number, iovs: number, iovsLen: number, nwrittenPtr: number) => {
        const sink = fd === 1 ? this.out : fd === 2 ? this.err : undefined;
        if (!sink) return ERRNO.BADF;
        const mem = this.bytes();
        const list = this.iovecs(iovs, iovsLen);
        if (!list) return ERRNO.FAULT;
        let written = 0;
        for (const { ptr, len } of list) {
          // A buffer past the end of memory: EFAULT, not a silently shorter write.
          if (ptr + len > mem.length) return ERRNO.FAULT;
          if (sink.length + len > this.maxOutput) return ERRNO.FBIG;
          sink.push(mem.subarray(ptr, ptr + len));
          written += len;
        }
        this.view().setUint32(nwrittenPtr, written, true);
        return ERRNO.SUCCESS;
      },
      fd_read: (fd: number, iovs: number, iovsLen: number, nreadPtr: number) => {
        if (fd !== 0) return ERRNO.BADF;
        const mem = this.bytes();
        const list = this.iovecs(iovs, iovsLen);
        if (!list) return ERRNO.FAULT;
        let read = 0;
        for (const { ptr, len } of list) {
          if (ptr + len > mem.length) return ERRNO.FAULT;
          const chunk = this.stdin.subarray(this.stdinOffset, this.stdinOffset + len);
          mem.set(chunk, ptr);
          this.stdinOffset += chunk.length;
          read += chunk.length;
          if (chunk.length < len) break;
        }
        this.view().setUint32(nreadPtr, read, true);
        return ERRNO.SUCCESS;
      },
      fd_fdstat_get: (fd: number, out: number) => {
        if (!isStdio(fd)) return ERRNO.BADF;
        const view = this.view();
        view.setUint8(out, FILETYPE_CHARACTER_DEVICE);
        view.setUint16(out + 2, 0, true);
        view.setBigUint64(out + 8, ALL_RIGHTS, true);
        view.setBigUint64(out + 16, ALL_RIGHTS, true);
        return ERRNO.SUCCESS;
      },
      fd_fdstat_set_flags: (fd: number) => (isStdio(fd) ? ERRNO.SUCCESS : ERRNO.BADF),
      fd_filestat_get: (fd: number, out: number) => {
        if (!isStdio(fd)) return ERRNO.BADF;
        const mem = this.bytes();
        mem.fill(0, out, out + 64);
        this.view().setUint8(out + 16, FILETYPE_CHARACTER_DEVICE);
        return ERRNO.SUCCESS;
      },
      fd_close: (fd: number) => (isStdio(fd) ? ERRNO.SUCCESS : ERRNO.BADF),
      fd_sync: (fd: number) => (isStdio(fd) ? ERRNO.SUCCESS : ERRNO.BADF),
      fd_datasync: (fd: number) => (isStdio(fd) ? ERRNO.SUCCESS : ERRNO.BADF),
      fd_seek: (fd: number) => (isStdio(fd) ? ERRNO.SPIPE : ERRNO.BADF),
      fd_tell: (fd: number) => (isStdio(fd) ? ERRNO.SPIPE : ERRNO.BADF),
      // No preopened directories: EBADF ends the guest's preopen scan.
      fd_prestat_get: badf,
      fd_prestat_dir_name: badf,
      fd_readdir: badf,
      // No sockets: stdio is not one (ENOTSOCK), any other descriptor does not exist (EBADF).
      sock_accept: (fd: number) => (isStdio(fd) ? ERRNO.NOTSOCK : ERRNO.BADF),
      sock_recv: (fd: number) => (isStdio(fd) ? ERRNO.NOTSOCK : ERRNO.BADF),
      sock_send: (fd: number) => (isStdio(fd) ? ERRNO.NOTSOCK : ERRNO.BADF),
      sock_shutdown: (fd: number) => (isStdio(fd) ? ERRNO.NOTSOCK : ERRNO.BADF),
      sched_yield: () => ERRNO.SUCCESS,
      poll_oneoff: (subs: number, events: number, count: number, neventsPtr: number) =>
        this.pollOneoff(subs, events, count, neventsPtr),
      proc_exit: (code: number) => {
        this.exitCode = code;
        throw new WasiExit(code);
      },
    });
    return imports as Record<string, (...args: never[]) => unknown>;
  }

  /**
   * stdin/stdout are in memory and always ready, so fd subscriptions fire at once; a
   * clock-only poll (a guest's sleep) really waits, so timeouts stay meaningful.
   */
  private pollOneoff(subs: number, events: number, count: number, neventsPtr: number): number {
    const view = this.view();
    let fired = 0;
    let minSleepNs: bigint | undefined;
    const clockSubs: { userdata: bigint; index: number }[] = [];
    for (let i = 0; i < count; i++) {
      const sub = subs + i * 48;
      const userdata = view.getBigUint64(sub, true);
      const tag = view.getUint8(sub + 8);
      if (tag === 0) {
        const clockId = view.getUint32(sub + 16, true);
        if (clockId > 3) {
          // An unknown clock: its event reports EINVAL at once (no sleep on a clock that does not exist).
          const ev = events + fired * 32;
          view.setBigUint64(ev, userdata, true);
          view.setUint16(ev + 8, ERRNO.INVAL, true);
          view.setUint8(ev + 10, tag);
          fired++;
          continue;
        }
        let timeout = view.getBigUint64(sub + 24, true);
        const absolute = (view.getUint16(sub + 40, true) & 1) === 1;
        if (absolute) timeout = timeout > clockNanos(clockId) ? timeout - clockNanos(clockId) : 0n;
        if (minSleepNs === undefined || timeout < minSleepNs) minSleepNs = timeout;
        clockSubs.push({ userdata, index: i });
      } else {
        const ev = events + fired * 32;
        view.setBigUint64(ev, userdata, true);
        view.setUint16(ev + 8, ERRNO.SUCCESS, true);
        view.setUint8(ev + 10, tag);
        view.setBigUint64(ev + 16, tag === 1 ? BigInt(this.stdin.length - this.stdinOffset) : 0n, true);
        view.setUint16(ev + 24, 0, true);
        fired++;
      }
    }
    if (fired === 0 && clockSubs.length > 0) {
      sleepNanos(minSleepNs ?? 0n);
      for (const { userdata } of clockSubs) {
        const ev = events + fired * 32;
        view.setBigUint64(ev, userdata, true);
        view.setUint16(ev + 8, ERRNO.SUCCESS, true);
        view.setUint8(ev + 10, 0);
        fired++;
      }
    }
    view.setUint32(neventsPtr, fired, true);
    return ERRNO.SUCCESS;
  }
}

function clockNanos(id: number): bigint {
  // 0 realtime; 1 monotonic; 2, 3 process/thread CPU time (approximated by monotonic).
  if (id === 0) return BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor((performance.now() % 1) * 1e6));
  return BigInt(Math.floor(performance.now() * 1e6));
}

let sleepCell: Int32Array | undefined;
function sleepNanos(ns: bigint): void {
  const ms = Number(ns / 1_000_000n);
  if (ms <= 0) return;
  try {
    sleepCell ??= new Int32Array(new SharedArrayBuffer(4));
    Atomics.wait(sleepCell, 0, 0, ms);
  } catch {
    // Hosts without Atomics.wait on this thread (a Worker isolate, where the clock also stands
    // still during execution): return at once rather than spin until the CPU limit.
  }
}
