/**
 * Bundled files (wfn.toml `[files]`): the archive format that carries them inside the artifact,
 * as the `wfn.files` custom section, and the read-only tree the WASI host serves from it.
 *
 * Why a custom section: the same .wasm then carries its files to every host that runs wfn's
 * runtime (dev, run, serve, the Worker, the Lambda handler), with no second file to ship,
 * upload or keep in step; a host reads it with WebAssembly.Module.customSections, which
 * workerd and Node both have. Platform-neutral (no node:*): it is bundled into the shims.
 *
 * Format (little-endian), version 1:
 *   "wfnfiles" u32 version
 *   u32 preopens, each: u16 name length, name (UTF-8), u16 path length, tree path
 *   u32 entries,  each: u16 path length, path (UTF-8, "/"-separated, relative), u8 kind
 *                       (0 file, 1 directory), u64 mtime (ns), u32 size, u32 data offset
 *   the file bytes, each at its offset from the start of this area
 * Everything is validated when loaded: the section comes from a user's artifact.
 */

export const FILES_SECTION = 'wfn.files';
const MAGIC = 'wfnfiles';
const VERSION = 1;

/** Upper bounds of what a host accepts from an archive (it is the user's input). */
export const FILES_LIMITS = {
  /** Names and paths: bytes, as WASI's PATH_MAX. */
  maxPath: 4096,
  maxEntries: 200_000,
  maxPreopens: 64,
} as const;

export class FilesFormatError extends Error {
  constructor(message: string) {
    super(`${FILES_SECTION}: ${message}`);
    this.name = 'FilesFormatError';
  }
}

export interface FileNode {
  kind: 'file';
  ino: bigint;
  mtimeNs: bigint;
  data: Uint8Array;
}

export interface DirNode {
  kind: 'dir';
  ino: bigint;
  mtimeNs: bigint;
  /** Entries in name order (readdir order is stable across requests and hosts). */
  children: Map<string, Node>;
  parent: DirNode | undefined;
}

export type Node = FileNode | DirNode;

export interface Preopen {
  /** The name the guest sees (fd_prestat_dir_name), e.g. "/". */
  name: string;
  dir: DirNode;
}

export interface FileTree {
  root: DirNode;
  preopens: Preopen[];
  /** Number of files and their total bytes (for messages and `wfn inspect`). */
  files: number;
  bytes: number;
}

/** What the pipeline puts in an archive. */
export interface ArchiveEntry {
  /** Relative path inside the tree, "/"-separated, no "." or ".." parts. */
  path: string;
  kind: 'file' | 'dir';
  mtimeNs: bigint;
  data?: Uint8Array;
}

export interface ArchiveInput {
  preopens: { name: string; path: string }[];
  entries: ArchiveEntry[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A problem with one path component, or undefined (the rules a tree path follows). */
export function pathProblem(path: string): string | undefined {
  if (path === '') return undefined;
  if (encoder.encode(path).length > FILES_LIMITS.maxPath) return 'longer than 4096 bytes';
  if (path.includes('\0')) return 'contains NUL';
  for (const part of path.split('/')) {
    if (part === '' || part === '.' || part === '..') return `has an empty, "." or ".." part`;
  }
  return undefined;
}

/** The archive bytes for a set of entries (the pipeline's side). */
export function encodeArchive(input: ArchiveInput): Uint8Array {
  const head: number[] = [];
  const u16 = (n: number) => head.push(n & 0xff, (n >>> 8) & 0xff);
  const u32 = (n: number) => head.push(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  const u64 = (n: bigint) => {
    u32(Number(n & 0xffffffffn));
    u32(Number((n >> 32n) & 0xffffffffn));
  };
  const str = (s: string) => {
    const b = encoder.encode(s);
    u16(b.length);
    for (const byte of b) head.push(byte);
  };
  for (const c of MAGIC) head.push(c.charCodeAt(0));
  u32(VERSION);
  u32(input.preopens.length);
  for (const p of input.preopens) {
    str(p.name);
    str(p.path);
  }
  u32(input.entries.length);
  let offset = 0;
  const blobs: Uint8Array[] = [];
  for (const e of input.entries) {
    const problem = pathProblem(e.path);
    if (problem || e.path === '') throw new FilesFormatError(`the path ${JSON.stringify(e.path)} ${problem ?? 'is empty'}`);
    str(e.path);
    head.push(e.kind === 'file' ? 0 : 1);
    u64(e.mtimeNs < 0n ? 0n : e.mtimeNs);
    const size = e.kind === 'file' ? (e.data?.length ?? 0) : 0;
    u32(size);
    u32(offset);
    if (size > 0) blobs.push(e.data!);
    offset += size;
  }
  const out = new Uint8Array(head.length + offset);
  out.set(head, 0);
  let at = head.length;
  for (const b of blobs) {
    out.set(b, at);
    at += b.length;
  }
  return out;
}

class Cursor {
  at = 0;
  private readonly view: DataView;
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): void {
    if (this.at + n > this.bytes.length) throw new FilesFormatError('truncated');
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.at++];
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.at, true);
    this.at += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.at, true);
    this.at += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.at, true);
    this.at += 8;
    return v;
  }
  str(): string {
    const n = this.u16();
    if (n > FILES_LIMITS.maxPath) throw new FilesFormatError('a path is longer than 4096 bytes');
    this.need(n);
    try {
      return decoder.decode(this.bytes.subarray(this.at, (this.at += n)));
    } catch {
      throw new FilesFormatError('a path is not valid UTF-8');
    }
  }
}

function newDir(ino: bigint, mtimeNs: bigint, parent: DirNode | undefined): DirNode {
  return { kind: 'dir', ino, mtimeNs, children: new Map(), parent };
}

/**
 * The tree of an archive, validated: magic and version, every length inside the section,
 * paths without empty/"."/".." parts or NUL, no path twice, no file used as a directory.
 * File data are views into `bytes` (no copy).
 */
export function decodeArchive(bytes: Uint8Array): FileTree {
  const c = new Cursor(bytes);
  c.need(MAGIC.length);
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC.charCodeAt(i)) throw new FilesFormatError('not a wfn files archive');
  c.at = MAGIC.length;
  const version = c.u32();
  if (version !== VERSION) throw new FilesFormatError(`archive version ${version} (this wfn reads version ${VERSION})`);
  const preopenCount = c.u32();
  if (preopenCount > FILES_LIMITS.maxPreopens) throw new FilesFormatError(`${preopenCount} preopened directories (at most ${FILES_LIMITS.maxPreopens})`);
  const rawPreopens: { name: string; path: string }[] = [];
  for (let i = 0; i < preopenCount; i++) rawPreopens.push({ name: c.str(), path: c.str() });
  const count = c.u32();
  if (count > FILES_LIMITS.maxEntries) throw new FilesFormatError(`${count} entries (at most ${FILES_LIMITS.maxEntries})`);
  const raw: { path: string; kind: number; mtimeNs: bigint; size: number; offset: number }[] = [];
  for (let i = 0; i < count; i++) raw.push({ path: c.str(), kind: c.u8(), mtimeNs: c.u64(), size: c.u32(), offset: c.u32() });
  const dataStart = c.at;
  const dataLength = bytes.length - dataStart;

  let nextIno = 1n;
  const root = newDir(nextIno++, 0n, undefined);
  let files = 0;
  let total = 0;
  const dirAt = (parts: string[], mtimeNs: bigint): DirNode => {
    let dir = root;
    for (const part of parts) {
      let child = dir.children.get(part);
      if (!child) {
        child = newDir(nextIno++, mtimeNs, dir);
        dir.children.set(part, child);
      }
      if (child.kind !== 'dir') throw new FilesFormatError(`"${part}" is a file and a directory`);
      dir = child;
    }
    return dir;
  };
  for (const e of raw) {
    const problem = pathProblem(e.path);
    if (problem || e.path === '') throw new FilesFormatError(`the path ${JSON.stringify(e.path)} ${problem ?? 'is empty'}`);
    const parts = e.path.split('/');
    const name = parts.pop()!;
    const parent = dirAt(parts, e.mtimeNs);
    const existing = parent.children.get(name);
    if (e.kind === 1) {
      if (existing && existing.kind !== 'dir') throw new FilesFormatError(`"${e.path}" is a file and a directory`);
      if (existing) existing.mtimeNs = e.mtimeNs;
      else parent.children.set(name, newDir(nextIno++, e.mtimeNs, parent));
      continue;
    }
    if (e.kind !== 0) throw new FilesFormatError(`unknown entry kind ${e.kind} for "${e.path}"`);
    if (existing) throw new FilesFormatError(`"${e.path}" is listed twice`);
    if (e.offset > dataLength || e.size > dataLength - e.offset) throw new FilesFormatError(`the data of "${e.path}" lies outside the archive`);
    parent.children.set(name, { kind: 'file', ino: nextIno++, mtimeNs: e.mtimeNs, data: bytes.subarray(dataStart + e.offset, dataStart + e.offset + e.size) });
    files++;
    total += e.size;
  }
  sortTree(root);
  const preopens: Preopen[] = rawPreopens.map((p) => {
    if (p.name === '' || p.name.includes('\0')) throw new FilesFormatError('a preopened directory has an empty name or a NUL');
    const problem = pathProblem(p.path);
    if (problem) throw new FilesFormatError(`the preopened path ${JSON.stringify(p.path)} ${problem}`);
    return { name: p.name, dir: p.path === '' ? root : dirAt(p.path.split('/'), 0n) };
  });
  return { root, preopens, files, bytes: total };
}

function sortTree(dir: DirNode): void {
  dir.children = new Map([...dir.children].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  for (const child of dir.children.values()) if (child.kind === 'dir') sortTree(child);
}

const trees = new WeakMap<WebAssembly.Module, FileTree | null>();

/**
 * The bundled files of a compiled module, read once per module (and thread): undefined when
 * it has none. Throws FilesFormatError on a malformed section.
 */
export function filesOf(module: WebAssembly.Module): FileTree | undefined {
  const cached = trees.get(module);
  if (cached !== undefined) return cached ?? undefined;
  const sections = WebAssembly.Module.customSections(module, FILES_SECTION);
  if (sections.length > 1) throw new FilesFormatError('the module has more than one wfn.files section');
  const tree = sections.length === 1 ? decodeArchive(new Uint8Array(sections[0])) : null;
  trees.set(module, tree);
  return tree ?? undefined;
}
