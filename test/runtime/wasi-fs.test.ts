/**
 * The bundled files' archive (src/runtime/files.ts) and the read-only WASI filesystem over it
 * (src/runtime/wasi-fs.ts), called the way a guest calls preview1: pointers into a memory,
 * errno results. The attacks first: a hostile archive, paths out of the tree, writes.
 */
import { describe, expect, it } from 'vitest';
import { decodeArchive, encodeArchive, FilesFormatError, type ArchiveInput } from '../../src/runtime/files.js';
import { FS_ERRNO as E, MAX_OPEN_FILES } from '../../src/runtime/wasi-fs.js';
import { WasiHost } from '../../src/runtime/wasi.js';

type Call = (...args: (number | bigint)[]) => number;
const enc = new TextEncoder();
const dec = new TextDecoder();

const SAMPLE: ArchiveInput = {
  preopens: [{ name: '/', path: '' }],
  entries: [
    { path: 'index.html', kind: 'file', mtimeNs: 1_700_000_000_000_000_000n, data: enc.encode('<h1>hi</h1>') },
    { path: 'css/site.css', kind: 'file', mtimeNs: 5n, data: enc.encode('body{}') },
    { path: 'empty', kind: 'dir', mtimeNs: 0n },
    { path: 'bin.dat', kind: 'file', mtimeNs: 0n, data: Uint8Array.from({ length: 300 }, (_, i) => i & 0xff) },
  ],
};

function host(input: ArchiveInput = SAMPLE) {
  const wasi = new WasiHost({ args: [], env: [], stdin: new Uint8Array(0), files: decodeArchive(encodeArchive(input)) });
  const memory = new WebAssembly.Memory({ initial: 1 });
  wasi.bind(memory);
  const call = (name: string): Call => wasi.imports.wasi_snapshot_preview1[name] as unknown as Call;
  const view = () => new DataView(memory.buffer);
  const bytes = () => new Uint8Array(memory.buffer);
  const PATH = 8192;
  /** path_open relative to `dir`; returns [errno, fd]. */
  const open = (path: string | Uint8Array, { dir = 3, oflags = 0, rights = 0x2n | 0x4n, fdflags = 0 } = {}) => {
    const p = typeof path === 'string' ? enc.encode(path) : path;
    bytes().set(p, PATH);
    const errno = call('path_open')(dir, 1, PATH, p.length, oflags, rights, 0n, fdflags, 0);
    return [errno, view().getUint32(0, true)] as const;
  };
  /** fd_read into one buffer of `len`; returns [errno, bytes]. */
  const read = (fd: number, len: number) => {
    view().setUint32(16, 1024, true);
    view().setUint32(20, len, true);
    const errno = call('fd_read')(fd, 16, 1, 24);
    return [errno, bytes().slice(1024, 1024 + view().getUint32(24, true))] as const;
  };
  const stat = (path: string, dir = 3) => {
    const p = enc.encode(path);
    bytes().set(p, PATH);
    const errno = call('path_filestat_get')(dir, 1, PATH, p.length, 512);
    return { errno, ino: view().getBigUint64(520, true), type: view().getUint8(528), size: view().getBigUint64(544, true), mtime: view().getBigUint64(560, true) };
  };
  return { wasi, call, view, bytes, open, read, stat, PATH };
}

describe('bundled files archive', () => {
  it('round-trips files, directories and preopens', () => {
    const tree = decodeArchive(encodeArchive(SAMPLE));
    expect(tree.files).toBe(3);
    expect(tree.bytes).toBe(11 + 6 + 300);
    expect([...tree.root.children.keys()]).toEqual(['bin.dat', 'css', 'empty', 'index.html']);
    expect(tree.preopens.map((p) => p.name)).toEqual(['/']);
  });

  it('refuses a hostile archive with a FilesFormatError, never an out-of-bounds read', () => {
    const good = encodeArchive(SAMPLE);
    expect(() => decodeArchive(enc.encode('nope'))).toThrow(FilesFormatError);
    expect(() => decodeArchive(good.subarray(0, 40))).toThrow(/truncated/);
    const badVersion = good.slice();
    badVersion[8] = 9;
    expect(() => decodeArchive(badVersion)).toThrow(/version 9/);
    // Data lying past the end: cut the data area short.
    expect(() => decodeArchive(good.subarray(0, good.length - 10))).toThrow(/outside the archive/);
    // A path with "..": written by hand, since the encoder refuses it too.
    expect(() => encodeArchive({ preopens: [], entries: [{ path: '../etc/passwd', kind: 'file', mtimeNs: 0n, data: new Uint8Array(1) }] })).toThrow(FilesFormatError);
    const evil = encodeArchive({ preopens: [], entries: [{ path: 'aa/etc/passwd', kind: 'file', mtimeNs: 0n, data: new Uint8Array(1) }] });
    const at = Buffer.from(evil).indexOf('aa/etc');
    evil.set(enc.encode('..'), at);
    expect(() => decodeArchive(evil)).toThrow(/"\.\.\/etc\/passwd"/);
    const twice = { preopens: [], entries: [SAMPLE.entries[0], SAMPLE.entries[0]] };
    expect(() => decodeArchive(encodeArchive(twice))).toThrow(/listed twice/);
    const fileAsDir = { preopens: [], entries: [SAMPLE.entries[0], { path: 'index.html/x', kind: 'file' as const, mtimeNs: 0n, data: new Uint8Array(1) }] };
    expect(() => decodeArchive(encodeArchive(fileAsDir))).toThrow(/file and a directory/);
  });
});

describe('read-only WASI filesystem', () => {
  it('preopens "/" as fd 3 and nothing after it', () => {
    const h = host();
    expect(h.call('fd_prestat_get')(3, 0)).toBe(E.SUCCESS);
    expect(h.view().getUint8(0)).toBe(0);
    expect(h.view().getUint32(4, true)).toBe(1);
    expect(h.call('fd_prestat_dir_name')(3, 100, 1)).toBe(E.SUCCESS);
    expect(dec.decode(h.bytes().subarray(100, 101))).toBe('/');
    expect(h.call('fd_prestat_get')(4, 0)).toBe(E.BADF);
    expect(h.call('fd_prestat_get')(1, 0)).toBe(E.BADF);
  });

  it('opens, reads in pieces, seeks, tells and closes a file', () => {
    const h = host();
    const [errno, fd] = h.open('css/site.css');
    expect(errno).toBe(E.SUCCESS);
    expect(fd).toBe(4);
    expect(h.read(fd, 4)).toEqual([E.SUCCESS, enc.encode('body')]);
    expect(h.read(fd, 100)).toEqual([E.SUCCESS, enc.encode('{}')]);
    expect(h.read(fd, 100)[1].length).toBe(0);
    expect(h.call('fd_seek')(fd, -2n, 2, 32)).toBe(E.SUCCESS);
    expect(h.view().getBigUint64(32, true)).toBe(4n);
    expect(h.call('fd_tell')(fd, 40)).toBe(E.SUCCESS);
    expect(h.view().getBigUint64(40, true)).toBe(4n);
    expect(h.read(fd, 100)[1]).toEqual(enc.encode('{}'));
    expect(h.call('fd_seek')(fd, -1n, 0, 32)).toBe(E.INVAL);
    expect(h.call('fd_close')(fd)).toBe(E.SUCCESS);
    expect(h.call('fd_close')(fd)).toBe(E.BADF);
    expect(h.read(fd, 1)[0]).toBe(E.BADF);
  });

  it('preads at an offset without moving the cursor, binary bytes exact', () => {
    const h = host();
    const [, fd] = h.open('bin.dat');
    h.view().setUint32(16, 2048, true);
    h.view().setUint32(20, 10, true);
    expect(h.call('fd_pread')(fd, 16, 1, 295n, 24)).toBe(E.SUCCESS);
    expect(h.view().getUint32(24, true)).toBe(5);
    expect([...h.bytes().subarray(2048, 2053)]).toEqual([295 & 0xff, 296 & 0xff, 297 & 0xff, 298 & 0xff, 299 & 0xff]);
    expect(h.read(fd, 3)[1]).toEqual(Uint8Array.from([0, 1, 2]));
  });

  it('stats files and directories: type, size, mtime, distinct inodes', () => {
    const h = host();
    const file = h.stat('index.html');
    expect(file).toMatchObject({ errno: E.SUCCESS, type: 4, size: 11n, mtime: 1_700_000_000_000_000_000n });
    const dir = h.stat('css');
    expect(dir).toMatchObject({ errno: E.SUCCESS, type: 3 });
    expect(dir.ino).not.toBe(file.ino);
    expect(h.stat('nope.txt').errno).toBe(E.NOENT);
    expect(h.stat('index.html/').errno).toBe(E.NOTDIR);
    expect(h.stat('css/./site.css').errno).toBe(E.SUCCESS);
    expect(h.stat('css/../index.html').errno).toBe(E.SUCCESS);
  });

  it('lists a directory with fd_readdir: ".", "..", then the names in order, resumable by cookie', () => {
    const h = host();
    const [, fd] = h.open('.', { oflags: 2 });
    const names = (cookie: bigint, len = 4096) => {
      expect(h.call('fd_readdir')(fd, 4096, len, cookie, 8)).toBe(E.SUCCESS);
      const used = h.view().getUint32(8, true);
      const out: [string, number, bigint][] = [];
      for (let at = 4096; at + 24 <= 4096 + used; ) {
        const namlen = h.view().getUint32(at + 16, true);
        if (at + 24 + namlen > 4096 + used) break;
        out.push([dec.decode(h.bytes().subarray(at + 24, at + 24 + namlen)), h.view().getUint8(at + 20), h.view().getBigUint64(at, true)]);
        at += 24 + namlen;
      }
      return { used, out };
    };
    const all = names(0n);
    expect(all.out.map(([n]) => n)).toEqual(['.', '..', 'bin.dat', 'css', 'empty', 'index.html']);
    expect(all.out.find(([n]) => n === 'css')![1]).toBe(3);
    // A small buffer is filled to the brim; the next call goes on from the last whole entry's cookie.
    const part = names(0n, 60);
    expect(part.used).toBe(60);
    const rest = names(part.out.at(-1)![2]);
    expect(rest.out.map(([n]) => n)).toEqual(['bin.dat', 'css', 'empty', 'index.html']);
    expect(h.read(fd, 10)[0]).toBe(E.ISDIR);
  });

  it('refuses every path out of the tree: "..", absolute, NUL, through a file', () => {
    const h = host();
    expect(h.open('../index.html')[0]).toBe(E.NOTCAPABLE);
    expect(h.open('css/../../index.html')[0]).toBe(E.NOTCAPABLE);
    expect(h.open('/index.html')[0]).toBe(E.NOTCAPABLE);
    expect(h.open('index.html\0.txt')[0]).toBe(E.INVAL);
    expect(h.open(Uint8Array.from([0xff, 0xfe]))[0]).toBe(E.INVAL);
    expect(h.open('index.html/x')[0]).toBe(E.NOTDIR);
    expect(h.open('')[0]).toBe(E.NOENT);
    expect(h.open('a'.repeat(5000))[0]).toBe(E.NAMETOOLONG);
    // A subdirectory's descriptor is a capability to it only: ".." from it is refused.
    const [, css] = h.open('css', { oflags: 2 });
    expect(h.open('../index.html', { dir: css })[0]).toBe(E.NOTCAPABLE);
    expect(h.open('site.css', { dir: css })[0]).toBe(E.SUCCESS);
    expect(h.open('x', { dir: 1 })[0]).toBe(E.BADF);
    expect(h.open('x', { dir: 99 })[0]).toBe(E.BADF);
  });

  it('refuses writes: EROFS to create, truncate, append, open for writing or change; EBADF to write a read descriptor', () => {
    const h = host();
    expect(h.open('new.txt', { oflags: 1 })[0]).toBe(E.ROFS);
    expect(h.open('index.html', { oflags: 1 | 4 })[0]).toBe(E.EXIST);
    expect(h.open('index.html', { oflags: 8 })[0]).toBe(E.ROFS);
    expect(h.open('index.html', { rights: 1n << 6n })[0]).toBe(E.ROFS);
    expect(h.open('index.html', { fdflags: 1 })[0]).toBe(E.ROFS);
    expect(h.open('css', { rights: 1n << 6n })[0]).toBe(E.ISDIR);
    const [, fd] = h.open('index.html');
    h.view().setUint32(16, 0, true);
    h.view().setUint32(20, 1, true);
    expect(h.call('fd_write')(fd, 16, 1, 24)).toBe(E.BADF);
    expect(h.call('fd_pwrite')(fd, 16, 1, 0n, 24)).toBe(E.BADF);
    expect(h.call('fd_filestat_set_size')(fd, 0n)).toBe(E.ROFS);
    expect(h.call('fd_allocate')(fd, 0n, 10n)).toBe(E.ROFS);
    h.bytes().set(enc.encode('dir'), h.PATH);
    expect(h.call('path_create_directory')(3, h.PATH, 3)).toBe(E.ROFS);
    expect(h.call('path_unlink_file')(3, h.PATH, 3)).toBe(E.ROFS);
    expect(h.call('path_remove_directory')(3, h.PATH, 3)).toBe(E.ROFS);
    expect(h.call('path_rename')(3, h.PATH, 3, 3, h.PATH, 3)).toBe(E.ROFS);
    expect(h.call('path_symlink')(h.PATH, 3, 3, h.PATH, 3)).toBe(E.ROFS);
    // stdout still works beside the files.
    h.bytes().set(enc.encode('ok'), 3000);
    h.view().setUint32(16, 3000, true);
    h.view().setUint32(20, 2, true);
    expect(h.call('fd_write')(1, 16, 1, 24)).toBe(E.SUCCESS);
    expect(dec.decode(h.wasi.stdout())).toBe('ok');
  });

  it('bounds the descriptors one invocation holds (EMFILE), and a closed one is free again', () => {
    const h = host();
    let errno = 0;
    let opened = 0;
    for (; opened < MAX_OPEN_FILES + 10; opened++) {
      errno = h.open('index.html')[0];
      if (errno !== E.SUCCESS) break;
    }
    expect(errno).toBe(E.MFILE);
    expect(opened).toBeLessThanOrEqual(MAX_OPEN_FILES);
    expect(h.call('fd_close')(4)).toBe(E.SUCCESS);
    expect(h.open('index.html')[0]).toBe(E.SUCCESS);
  });

  it('a host without files keeps the old answers: no preopen, paths EBADF', () => {
    const wasi = new WasiHost({ args: [], env: [], stdin: new Uint8Array(0) });
    wasi.bind(new WebAssembly.Memory({ initial: 1 }));
    const call = (name: string) => wasi.imports.wasi_snapshot_preview1[name] as unknown as Call;
    expect(call('fd_prestat_get')(3, 0)).toBe(8);
    expect(call('path_open')(3, 0, 0, 1, 0, 0n, 0n, 0, 0)).toBe(8);
  });
});
