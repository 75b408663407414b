// Read-only access to the function's bundled files (wfn.toml `[files]`) on WASI preview1.
// AssemblyScript's standard library has no file API, so this is one: a few preview1 calls on
// the preopened "/" directory, the same calls Rust's std::fs and Go's os make underneath.

@external("wasi_snapshot_preview1", "fd_prestat_get")
declare function fd_prestat_get(fd: u32, out: usize): u32;
@external("wasi_snapshot_preview1", "fd_prestat_dir_name")
declare function fd_prestat_dir_name(fd: u32, path: usize, len: usize): u32;
@external("wasi_snapshot_preview1", "path_open")
declare function path_open(dirfd: u32, dirflags: u32, path: usize, pathLen: usize, oflags: u32, rightsBase: u64, rightsInheriting: u64, fdflags: u32, fdOut: usize): u32;
@external("wasi_snapshot_preview1", "path_filestat_get")
declare function path_filestat_get(fd: u32, flags: u32, path: usize, pathLen: usize, out: usize): u32;
@external("wasi_snapshot_preview1", "fd_pread")
declare function fd_pread(fd: u32, iovs: usize, iovsLen: usize, offset: u64, nreadOut: usize): u32;
@external("wasi_snapshot_preview1", "fd_close")
declare function fd_close(fd: u32): u32;

const FILETYPE_DIRECTORY: u8 = 3;
const FILETYPE_REGULAR_FILE: u8 = 4;
const RIGHT_FD_READ: u64 = 1 << 1;
const RIGHT_FD_SEEK: u64 = 1 << 2;

/** What stat() tells about a path. */
export class FileInfo {
  constructor(public size: u64, public mtimeNs: u64, public isDir: bool, public isFile: bool) {}
}

let rootFd: i32 = -2; // -2: not looked up yet; -1: no "/" preopen

/** The descriptor of the preopened "/" (the first one with that name), or -1. */
function root(): i32 {
  if (rootFd != -2) return rootFd;
  rootFd = -1;
  const prestat = new ArrayBuffer(8);
  for (let fd: u32 = 3; fd < 64; fd++) {
    if (fd_prestat_get(fd, changetype<usize>(prestat)) != 0) break;
    const len = load<u32>(changetype<usize>(prestat), 4);
    if (len != 1) continue;
    const name = new ArrayBuffer(1);
    if (fd_prestat_dir_name(fd, changetype<usize>(name), 1) == 0 && load<u8>(changetype<usize>(name)) == 47 /* "/" */) {
      rootFd = fd;
      break;
    }
  }
  return rootFd;
}

/** "/a/b.txt" -> "a/b.txt" (relative to the preopened "/"), "/" -> ".". */
function relative(path: string): ArrayBuffer {
  let at = 0;
  while (at < path.length && path.charCodeAt(at) == 47) at++;
  return String.UTF8.encode(at == path.length ? "." : path.substring(at));
}

/** Size, modification time and kind of a path; null when it does not exist. */
export function stat(path: string): FileInfo | null {
  const dir = root();
  if (dir < 0) return null;
  const rel = relative(path);
  const out = new ArrayBuffer(64);
  if (path_filestat_get(dir, 1, changetype<usize>(rel), rel.byteLength, changetype<usize>(out)) != 0) return null;
  const p = changetype<usize>(out);
  const kind = load<u8>(p, 16);
  return new FileInfo(load<u64>(p, 32), load<u64>(p, 48), kind == FILETYPE_DIRECTORY, kind == FILETYPE_REGULAR_FILE);
}

/** `length` bytes of a file from `offset` (fewer at its end); null when it cannot be opened. */
export function readRange(path: string, offset: u64, length: i32): ArrayBuffer | null {
  const dir = root();
  if (dir < 0) return null;
  const rel = relative(path);
  const fdOut = new ArrayBuffer(4);
  if (path_open(dir, 1, changetype<usize>(rel), rel.byteLength, 0, RIGHT_FD_READ | RIGHT_FD_SEEK, 0, 0, changetype<usize>(fdOut)) != 0) return null;
  const fd = load<u32>(changetype<usize>(fdOut));
  const buf = new ArrayBuffer(length);
  const iov = new ArrayBuffer(8);
  const nread = new ArrayBuffer(4);
  let got = 0;
  while (got < length) {
    store<u32>(changetype<usize>(iov), changetype<usize>(buf) + got);
    store<u32>(changetype<usize>(iov), length - got, 4);
    if (fd_pread(fd, changetype<usize>(iov), 1, offset + <u64>got, changetype<usize>(nread)) != 0) break;
    const n = load<u32>(changetype<usize>(nread));
    if (n == 0) break;
    got += n;
  }
  fd_close(fd);
  return got == length ? buf : buf.slice(0, got);
}

/** The whole file, or null. */
export function readFile(path: string): ArrayBuffer | null {
  const info = stat(path);
  if (info == null || !info.isFile) return null;
  return readRange(path, 0, <i32>info.size);
}
