/**
 * `wfn:files`, the bundled files ([files] in wfn.toml) for JavaScript functions: synchronous
 * reads in the style of Node's `fs.readFileSync`/`statSync` (a missing file throws an Error
 * whose `code` is "ENOENT"), on the host's file-read/file-stat, which read the preopened "/"
 * through WASI like every other language's file API. Paths are absolute in the function's
 * view ("/index.html"); the files are read-only, so there is nothing to write with.
 */
import { fileRead, fileStat } from 'wfn:fn/host';

/** WASI errno -> the Node-style code a JavaScript developer checks. */
const CODES: Record<number, string> = { 2: 'EACCES', 8: 'EBADF', 28: 'EINVAL', 31: 'EISDIR', 37: 'ENAMETOOLONG', 44: 'ENOENT', 54: 'ENOTDIR', 76: 'ENOTCAPABLE' };

/** Largest read in one host call (a bigger file is read in pieces of this size). */
const CHUNK = 16 * 1024 * 1024;

export interface FileStat {
  size: number;
  /** Modification time in ms since the epoch (as Node's mtimeMs) and in ns (exact, for ETags). */
  mtimeMs: number;
  mtimeNs: bigint;
  isFile(): boolean;
  isDirectory(): boolean;
}

function fail(thrown: unknown, syscall: string, path: string): never {
  // A result's err comes as an Error whose payload is the errno.
  const errno = (thrown as { payload?: unknown } | null)?.payload ?? thrown;
  const code = typeof errno === 'number' ? (CODES[errno] ?? `E${errno}`) : 'EIO';
  const error = new Error(`${code}: ${syscall} '${path}'`) as Error & { code: string; errno: number; syscall: string; path: string };
  error.code = code;
  error.errno = typeof errno === 'number' ? errno : -1;
  error.syscall = syscall;
  error.path = path;
  throw error;
}

function checkPath(path: unknown, syscall: string): string {
  if (typeof path !== 'string') throw new TypeError(`wfn:files: the path must be a string, not ${typeof path}`);
  if (path.includes('\0')) fail(28, syscall, path);
  return path;
}

/** Size, modification time and kind of a bundled path; throws ENOENT when there is none. */
export function stat(path: string): FileStat {
  checkPath(path, 'stat');
  let info: [number, number, number, number];
  try {
    info = fileStat(path);
  } catch (errno) {
    fail(errno, 'stat', path);
  }
  // u64s arrive as numbers (exact below 2^53): the mtime comes as seconds and nanoseconds, joined exactly here.
  const [size, seconds, nanos, type] = info;
  return { size, mtimeNs: BigInt(seconds) * 1_000_000_000n + BigInt(nanos), mtimeMs: seconds * 1000 + Math.floor(nanos / 1e6), isFile: () => type === 4, isDirectory: () => type === 3 };
}

/** True when the bundled path exists (file or directory). */
export function exists(path: string): boolean {
  try {
    stat(path);
    return true;
  } catch {
    return false;
  }
}

export interface ReadOptions {
  /** Byte offset to start at (default 0). */
  offset?: number;
  /** Bytes to read at most (default: to the end). */
  length?: number;
}

/** A bundled file's bytes (all of them, or `length` from `offset`). */
export function readFile(path: string, options: ReadOptions = {}): Uint8Array {
  checkPath(path, 'open');
  const offset = options.offset ?? 0;
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError('wfn:files: offset must be a whole number >= 0');
  let want = options.length;
  if (want === undefined) {
    const info = stat(path);
    if (!info.isFile()) fail(31, 'read', path);
    want = Math.max(0, info.size - offset);
  } else if (!Number.isSafeInteger(want) || want < 0) throw new RangeError('wfn:files: length must be a whole number >= 0');
  const pieces: Uint8Array[] = [];
  let got = 0;
  while (got < want) {
    let piece: Uint8Array;
    try {
      piece = fileRead(path, offset + got, Math.min(CHUNK, want - got));
    } catch (errno) {
      fail(errno, 'read', path);
    }
    if (piece.length === 0) break;
    pieces.push(piece);
    got += piece.length;
  }
  if (pieces.length === 1) return pieces[0];
  const out = new Uint8Array(got);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A bundled file as text (UTF-8, invalid bytes replaced). */
export function readTextFile(path: string): string {
  return new TextDecoder().decode(readFile(path));
}
