/**
 * The read-only filesystem of WASI preview1 over a function's bundled files (files.ts): the
 * preopened directories, path_open, reads, seeks, stats and readdir; every call that would
 * change something fails with EROFS (and a write on a read-only descriptor with EBADF, as on
 * Linux). One instance per invocation: descriptors, offsets and directory cursors are the
 * request's own, the tree is shared and never changes.
 *
 * Paths resolve below the descriptor they are relative to and never above it (cap-std's
 * rule, as in Wasmtime): an absolute path or a ".." past the base answers ENOTCAPABLE.
 * Platform-neutral (no node:*), like the rest of the WASI host.
 */
import type { DirNode, FileTree, Node } from './files.js';

export const FS_ERRNO = {
  SUCCESS: 0,
  ACCES: 2,
  BADF: 8,
  EXIST: 20,
  INVAL: 28,
  ISDIR: 31,
  MFILE: 33,
  NAMETOOLONG: 37,
  NOENT: 44,
  NOTDIR: 54,
  NOTEMPTY: 55,
  OVERFLOW: 61,
  ROFS: 69,
  SPIPE: 70,
  NOTCAPABLE: 76,
} as const;

const FILETYPE = { DIRECTORY: 3, REGULAR_FILE: 4 } as const;
const OFLAGS = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 } as const;
const FDFLAG_APPEND = 1;
const RIGHT_FD_WRITE = 1n << 6n;
const RIGHT_FD_ALLOCATE = 1n << 8n;
/** Every right a descriptor of this filesystem can use (what the guest asks is then checked per call). */
const ALL_RIGHTS = 0x1fffffffn;
/** Descriptors one invocation may hold open at a time (a guest that leaks them gets EMFILE). */
export const MAX_OPEN_FILES = 1024;
const MAX_PATH = 4096;

interface Descriptor {
  node: Node;
  /** The name a preopened directory reports (fd_prestat_dir_name). */
  preopen?: string;
  /** Byte offset of a file (fd_read, fd_seek). */
  offset: number;
}

type Errno = number;
const decoder = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

export interface Memory {
  view(): DataView;
  bytes(): Uint8Array;
}

export class ReadOnlyFs {
  private readonly fds = new Map<number, Descriptor>();
  private nextFd: number;

  constructor(
    tree: FileTree,
    private readonly mem: Memory,
    /** The first descriptor number after stdin, stdout and stderr. */
    firstFd = 3,
  ) {
    let fd = firstFd;
    for (const p of tree.preopens) this.fds.set(fd++, { node: p.dir, preopen: p.name, offset: 0 });
    this.nextFd = fd;
  }

  has(fd: number): boolean {
    return this.fds.has(fd);
  }

  private readPath(ptr: number, len: number): string | Errno {
    if (len > MAX_PATH) return FS_ERRNO.NAMETOOLONG;
    try {
      return decoder.decode(this.mem.bytes().subarray(ptr, ptr + len));
    } catch {
      return FS_ERRNO.INVAL;
    }
  }

  /** The node a path names below `base`, or an errno. */
  private resolve(base: Node, path: string): Node | Errno {
    if (path.includes('\0')) return FS_ERRNO.INVAL;
    if (path === '') return FS_ERRNO.NOENT;
    if (path.startsWith('/')) return FS_ERRNO.NOTCAPABLE;
    const mustBeDir = path.endsWith('/');
    let node: Node = base;
    let depth = 0;
    for (const part of path.split('/')) {
      if (part === '' || part === '.') {
        if (node.kind !== 'dir') return FS_ERRNO.NOTDIR;
        continue;
      }
      if (node.kind !== 'dir') return FS_ERRNO.NOTDIR;
      if (part === '..') {
        if (depth === 0 || !node.parent) return FS_ERRNO.NOTCAPABLE;
        node = node.parent;
        depth--;
        continue;
      }
      const child: Node | undefined = node.children.get(part);
      if (!child) return FS_ERRNO.NOENT;
      node = child;
      depth++;
    }
    if (mustBeDir && node.kind !== 'dir') return FS_ERRNO.NOTDIR;
    return node;
  }

  private lookup(fd: number, pathPtr: number, pathLen: number): Node | Errno {
    const base = this.fds.get(fd);
    if (!base) return FS_ERRNO.BADF;
    if (base.node.kind !== 'dir') return FS_ERRNO.NOTDIR;
    const path = this.readPath(pathPtr, pathLen);
    if (typeof path === 'number') return path;
    return this.resolve(base.node, path);
  }

  private writeFilestat(node: Node, out: number): void {
    const view = this.mem.view();
    view.setBigUint64(out, 0n, true); // dev
    view.setBigUint64(out + 8, node.ino, true);
    view.setUint8(out + 16, node.kind === 'dir' ? FILETYPE.DIRECTORY : FILETYPE.REGULAR_FILE);
    for (let i = 17; i < 24; i++) view.setUint8(out + i, 0);
    view.setBigUint64(out + 24, 1n, true); // nlink
    view.setBigUint64(out + 32, BigInt(node.kind === 'file' ? node.data.length : 0), true);
    view.setBigUint64(out + 40, node.mtimeNs, true); // atim
    view.setBigUint64(out + 48, node.mtimeNs, true); // mtim
    view.setBigUint64(out + 56, node.mtimeNs, true); // ctim
  }

  /** The preview1 functions this filesystem answers; the host keeps its own for stdio. */
  imports(): Record<string, (...args: any[]) => number> {
    const E = FS_ERRNO;
    const rofsIfOurs = (fd: number) => (this.fds.has(fd) ? E.ROFS : E.BADF);
    return {
      fd_prestat_get: (fd: number, out: number) => {
        const d = this.fds.get(fd);
        if (!d) return E.BADF;
        if (d.preopen === undefined) return E.BADF;
        const view = this.mem.view();
        view.setUint8(out, 0); // preopentype dir
        view.setUint32(out + 4, encoder.encode(d.preopen).length, true);
        return E.SUCCESS;
      },
      fd_prestat_dir_name: (fd: number, ptr: number, len: number) => {
        const d = this.fds.get(fd);
        if (!d || d.preopen === undefined) return E.BADF;
        const name = encoder.encode(d.preopen);
        if (len < name.length) return E.NAMETOOLONG;
        this.mem.bytes().set(name, ptr);
        return E.SUCCESS;
      },
      path_open: (dirfd: number, _dirflags: number, pathPtr: number, pathLen: number, oflags: number, rightsBase: bigint, _rightsInheriting: bigint, fdflags: number, fdOut: number) => {
        const node = this.lookup(dirfd, pathPtr, pathLen);
        const wantsWrite = (BigInt(rightsBase) & (RIGHT_FD_WRITE | RIGHT_FD_ALLOCATE)) !== 0n || (oflags & OFLAGS.TRUNC) !== 0 || (fdflags & FDFLAG_APPEND) !== 0;
        if (typeof node === 'number') {
          if (node === E.NOENT && oflags & OFLAGS.CREAT) return E.ROFS;
          return node;
        }
        if (oflags & OFLAGS.CREAT && oflags & OFLAGS.EXCL) return E.EXIST;
        if (oflags & OFLAGS.DIRECTORY && node.kind !== 'dir') return E.NOTDIR;
        if (node.kind === 'dir' && wantsWrite) return E.ISDIR;
        if (wantsWrite) return E.ROFS;
        if (this.fds.size >= MAX_OPEN_FILES) return E.MFILE;
        const fd = this.nextFd++;
        this.fds.set(fd, { node, offset: 0 });
        this.mem.view().setUint32(fdOut, fd, true);
        return E.SUCCESS;
      },
      fd_close: (fd: number) => {
        if (!this.fds.delete(fd)) return E.BADF;
        return E.SUCCESS;
      },
      fd_read: (fd: number, iovs: number, iovsLen: number, nreadPtr: number) => {
        const d = this.fds.get(fd);
        if (!d) return E.BADF;
        if (d.node.kind !== 'file') return E.ISDIR;
        const n = this.readAt(d.node.data, d.offset, iovs, iovsLen);
        d.offset += n;
        this.mem.view().setUint32(nreadPtr, n, true);
        return E.SUCCESS;
      },
      fd_pread: (fd: number, iovs: number, iovsLen: number, offset: bigint, nreadPtr: number) => {
        const d = this.fds.get(fd);
        if (!d) return E.BADF;
        if (d.node.kind !== 'file') return E.ISDIR;
        const at = BigInt(offset);
        const n = at >= BigInt(d.node.data.length) ? 0 : this.readAt(d.node.data, Number(at), iovs, iovsLen);
        this.mem.view().setUint32(nreadPtr, n, true);
        return E.SUCCESS;
      },
      fd_seek: (fd: number, delta: bigint, whence: number, out: number) => {
        const d = this.fds.get(fd);
        if (!d) return E.BADF;
        if (d.node.kind !== 'file') return E.ISDIR;
        const base = whence === 0 ? 0n : whence === 1 ? BigInt(d.offset) : whence === 2 ? BigInt(d.node.data.length) : -1n;
        if (base < 0n) return E.INVAL;
        const next = base + BigInt(delta);
        if (next < 0n) return E.INVAL;
        if (next > BigInt(Number.MAX_SAFE_INTEGER)) return E.OVERFLOW;
        d.offset = Number(next);
        this.mem.view().setBigUint64(out, next, true);
        return E.SUCCESS;
      },
      fd_tell: (fd: number, out: number) => {
        const d = this.fds.get(fd);
        if (!d) return E.BADF;
        if (d.node.kind !== 'file') return E.ISDIR;
        this.mem.view().setBigUint64(out, BigInt(d.offset), true);
        return E.SUCCESS;
      },
      fd_fdstat_get: (fd: number, out: number) => {
        const d = this.fds.get(fd);
        if (!d) return E.BADF;
        const view = this.mem.view();
        view.setUint8(out, d.node.kind === 'dir' ? FILETYPE.DIRECTORY : FILETYPE.REGULAR_FILE);
        view.setUint16(out + 2, 0, true);
        view.setBigUint64(out + 8, ALL_RIGHTS, true);
        view.setBigUint64(out + 16, ALL_RIGHTS, true);
        return E.SUCCESS;
      },
      fd_fdstat_set_flags: (fd: number, flags: number) => {
        if (!this.fds.has(fd)) return E.BADF;
        return flags & FDFLAG_APPEND ? E.ROFS : E.SUCCESS;
      },
      fd_fdstat_set_rights: (fd: number) => (this.fds.has(fd) ? E.SUCCESS : E.BADF),
      fd_filestat_get: (fd: number, out: number) => {
        const d = this.fds.get(fd);
        if (!d) return E.BADF;
        this.writeFilestat(d.node, out);
        return E.SUCCESS;
      },
      path_filestat_get: (fd: number, _flags: number, pathPtr: number, pathLen: number, out: number) => {
        const node = this.lookup(fd, pathPtr, pathLen);
        if (typeof node === 'number') return node;
        this.writeFilestat(node, out);
        return E.SUCCESS;
      },
      fd_readdir: (fd: number, buf: number, bufLen: number, cookie: bigint, bufusedPtr: number) => {
        const d = this.fds.get(fd);
        if (!d) return E.BADF;
        if (d.node.kind !== 'dir') return E.NOTDIR;
        this.mem.view().setUint32(bufusedPtr, this.readdir(d.node, buf, bufLen, BigInt(cookie)), true);
        return E.SUCCESS;
      },
      fd_advise: (fd: number) => (this.fds.has(fd) ? E.SUCCESS : E.BADF),
      fd_sync: (fd: number) => (this.fds.has(fd) ? E.SUCCESS : E.BADF),
      fd_datasync: (fd: number) => (this.fds.has(fd) ? E.SUCCESS : E.BADF),
      // Writes on a descriptor opened for reading: EBADF, as Linux answers write(2) on O_RDONLY.
      fd_write: () => E.BADF,
      fd_pwrite: () => E.BADF,
      fd_allocate: rofsIfOurs,
      fd_filestat_set_size: rofsIfOurs,
      fd_filestat_set_times: rofsIfOurs,
      fd_renumber: (from: number, to: number) => {
        const d = this.fds.get(from);
        if (!d || !this.fds.has(to)) return E.BADF;
        if (d.preopen !== undefined || this.fds.get(to)!.preopen !== undefined) return E.NOTCAPABLE;
        this.fds.set(to, d);
        this.fds.delete(from);
        return E.SUCCESS;
      },
      path_create_directory: rofsIfOurs,
      path_filestat_set_times: rofsIfOurs,
      path_link: rofsIfOurs,
      path_remove_directory: rofsIfOurs,
      path_rename: rofsIfOurs,
      path_symlink: (_old: number, _oldLen: number, fd: number) => rofsIfOurs(fd),
      path_unlink_file: rofsIfOurs,
      // No symbolic links in an archive: an existing path is not one (EINVAL), a missing one is missing.
      path_readlink: (fd: number, pathPtr: number, pathLen: number) => {
        const node = this.lookup(fd, pathPtr, pathLen);
        return typeof node === 'number' ? node : E.INVAL;
      },
    };
  }

  private readAt(data: Uint8Array, offset: number, iovs: number, iovsLen: number): number {
    const view = this.mem.view();
    const mem = this.mem.bytes();
    let at = offset;
    for (let i = 0; i < iovsLen && at < data.length; i++) {
      const ptr = view.getUint32(iovs + i * 8, true);
      const len = view.getUint32(iovs + i * 8 + 4, true);
      const chunk = data.subarray(at, Math.min(data.length, at + len));
      mem.set(chunk, ptr);
      at += chunk.length;
    }
    return at - offset;
  }

  /** Entries "." and ".." first, then the children in name order; a cookie is the next entry's index. */
  private readdir(dir: DirNode, buf: number, bufLen: number, cookie: bigint): number {
    const entries: [string, Node][] = [['.', dir], ['..', dir.parent ?? dir], ...dir.children];
    const mem = this.mem.bytes();
    let used = 0;
    for (let i = Number(cookie > BigInt(entries.length) ? BigInt(entries.length) : cookie); i < entries.length && used < bufLen; i++) {
      const [name, node] = entries[i];
      const nameBytes = encoder.encode(name);
      const header = new Uint8Array(24);
      const hv = new DataView(header.buffer);
      hv.setBigUint64(0, BigInt(i + 1), true);
      hv.setBigUint64(8, node.ino, true);
      hv.setUint32(16, nameBytes.length, true);
      hv.setUint8(20, node.kind === 'dir' ? FILETYPE.DIRECTORY : FILETYPE.REGULAR_FILE);
      // A full buffer ends the call; the guest sees bufused == buf_len and asks again (truncated entries included, as the spec says).
      const entry = new Uint8Array(24 + nameBytes.length);
      entry.set(header, 0);
      entry.set(nameBytes, 24);
      const n = Math.min(entry.length, bufLen - used);
      mem.set(entry.subarray(0, n), buf + used);
      used += n;
    }
    return used;
  }
}
