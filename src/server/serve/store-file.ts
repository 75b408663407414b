/**
 * The file store: one folder, durable against `kill -9` and power loss. Every file is written
 * to a temporary name, fsynced, renamed over its final name, and then the folder is fsynced,
 * so after a crash a file is either its old or its new content, never a mix.
 *
 *   <data-dir>/blobs/<sha256>.wasm      the uploaded modules, by content
 *   <data-dir>/functions/<name>.json    one record per function (versions, which one is live)
 *   <data-dir>/secrets/<name>/<id>.json  a function's secret values (folder 0700, files 0600)
 *   <data-dir>/kv/<name>/<store>.sqlite  a function's key-value stores (runtime/node/kv-sqlite.ts;
 *                                        SQLite with synchronous=FULL: a write is durable when acknowledged)
 *
 * Records carry the functions' variables and secrets/ their secret values: the folders are 0700
 * and the files 0600, and a data dir found with looser modes is tightened at start.
 *
 * One server per data dir (it serializes writes in-process); several replicas use the S3 store.
 */
import { chmod, mkdir, open, readdir, readFile, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { BlobInfo, FunctionRecord, StoreBackend } from './types.js';
import type { KvHosting } from '../../runtime/node/pool.js';
import { fsyncDir, TMP_SUFFIX, writeFileAtomic } from '../../util/fs.js';

/** The store's durable write (util/fs.ts): temp file, fsync, rename, fsync the folder. */
export const writeDurably = writeFileAtomic;

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

export class FileStore implements StoreBackend {
  readonly kind = 'file';
  readonly blobGraceMs = 0;
  private readonly blobs: string;
  private readonly functions: string;
  private readonly secrets: string;

  constructor(readonly location: string) {
    this.blobs = path.join(location, 'blobs');
    this.functions = path.join(location, 'functions');
    this.secrets = path.join(location, 'secrets');
  }

  /** Each function's stores are files of its own; they outlive redeploys (and a delete: state is data). */
  kvBackend(name: string): KvHosting['backend'] {
    return { kind: 'sqlite', dir: path.join(this.location, 'kv', name), durable: true };
  }

  async init(warn: (message: string) => void = () => {}): Promise<void> {
    await mkdir(this.blobs, { recursive: true, mode: DIR_MODE });
    await mkdir(this.functions, { recursive: true, mode: DIR_MODE });
    await mkdir(this.secrets, { recursive: true, mode: DIR_MODE });
    // Temp files are what a crash mid-write leaves behind; they were never acknowledged.
    for (const dir of [this.blobs, this.functions]) {
      for (const entry of await readdir(dir)) {
        if (entry.endsWith(TMP_SUFFIX)) await rm(path.join(dir, entry), { force: true });
      }
    }
    await this.tightenModes(warn);
    await fsyncDir(this.location);
  }

  /** A data dir from an older version (or a hand-made one) may be readable by others: make it ours only. */
  private async tightenModes(warn: (message: string) => void): Promise<void> {
    const entries: [string, number][] = [this.location, this.blobs, this.functions, this.secrets].map((dir) => [dir, DIR_MODE]);
    for (const dir of [this.blobs, this.functions]) {
      for (const entry of await readdir(dir)) entries.push([path.join(dir, entry), FILE_MODE]);
    }
    let tightened = 0;
    const failed: string[] = [];
    for (const [file, mode] of entries) {
      const current = (await stat(file)).mode & 0o777;
      if ((current & ~mode) === 0) continue;
      try {
        await chmod(file, mode);
        tightened++;
      } catch (error) {
        failed.push(`${file} (${(error as NodeJS.ErrnoException).code ?? error})`);
      }
    }
    if (tightened > 0) warn(`permissions of ${tightened} entr${tightened === 1 ? 'y' : 'ies'} in ${this.location} let other users read functions and their variables: tightened to 0700 (folders) and 0600 (files)`);
    if (failed.length > 0) warn(`cannot restrict the permissions of ${failed.join(', ')}: other users may read functions and their variables`);
  }

  private recordFile(name: string): string {
    return path.join(this.functions, `${name}.json`);
  }

  private blobFile(sha256: string): string {
    return path.join(this.blobs, `${sha256}.wasm`);
  }

  /** A rename gives the file a new inode, so inode + mtime changes on every rewrite. */
  private static stampOf(s: { ino: bigint; mtimeNs: bigint; size: bigint }): string {
    return `${s.ino}:${s.mtimeNs}:${s.size}`;
  }

  async listRecords(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const entry of await readdir(this.functions)) {
      if (!entry.endsWith('.json') || entry.startsWith('.')) continue;
      try {
        out.set(entry.slice(0, -'.json'.length), FileStore.stampOf(await stat(path.join(this.functions, entry), { bigint: true })));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // deleted meanwhile
      }
    }
    return out;
  }

  async readRecord(name: string): Promise<{ record: FunctionRecord; stamp: string } | undefined> {
    const file = this.recordFile(name);
    let text: string;
    let stamp: string;
    try {
      const handle = await open(file, 'r');
      try {
        stamp = FileStore.stampOf(await handle.stat({ bigint: true }));
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return { record: JSON.parse(text) as FunctionRecord, stamp };
  }

  async writeRecord(record: FunctionRecord): Promise<string> {
    const file = this.recordFile(record.name);
    await writeDurably(file, JSON.stringify(record, null, 2) + '\n', { mode: FILE_MODE });
    return FileStore.stampOf(await stat(file, { bigint: true }));
  }

  async deleteRecord(name: string): Promise<void> {
    try {
      await unlink(this.recordFile(name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await fsyncDir(this.functions);
  }

  async hasBlob(sha256: string): Promise<boolean> {
    try {
      await stat(this.blobFile(sha256));
      return true;
    } catch {
      return false;
    }
  }

  async putBlob(sha256: string, bytes: Uint8Array): Promise<void> {
    if (await this.hasBlob(sha256)) return;
    await writeDurably(this.blobFile(sha256), bytes, { mode: FILE_MODE });
  }

  async getBlob(sha256: string): Promise<Uint8Array> {
    return new Uint8Array(await readFile(this.blobFile(sha256)));
  }

  async listBlobs(): Promise<BlobInfo[]> {
    const out: BlobInfo[] = [];
    for (const entry of await readdir(this.blobs)) {
      if (!entry.endsWith('.wasm') || entry.startsWith('.')) continue;
      try {
        out.push({ sha256: entry.slice(0, -'.wasm'.length), modifiedMs: (await stat(path.join(this.blobs, entry))).mtimeMs });
      } catch {
        // removed meanwhile
      }
    }
    return out;
  }

  async deleteBlob(sha256: string): Promise<void> {
    await rm(this.blobFile(sha256), { force: true });
  }

  private secretsFile(name: string, id: string): string {
    if (!/^[a-f0-9-]{8,64}$/.test(id)) throw new Error(`invalid secrets id ${JSON.stringify(id)}`);
    return path.join(this.secrets, name, `${id}.json`);
  }

  async putSecrets(name: string, id: string, values: Record<string, string>): Promise<void> {
    const file = this.secretsFile(name, id);
    await mkdir(path.dirname(file), { recursive: true, mode: DIR_MODE });
    await writeDurably(file, JSON.stringify(values), { mode: FILE_MODE });
  }

  async getSecrets(name: string, id: string): Promise<Record<string, string>> {
    return JSON.parse(await readFile(this.secretsFile(name, id), 'utf8')) as Record<string, string>;
  }

  async pruneSecrets(name: string, keep: string[]): Promise<void> {
    const dir = path.join(this.secrets, name);
    if (keep.length === 0) {
      await rm(dir, { recursive: true, force: true });
      return;
    }
    let entries: string[];
    try {
      entries = await readdir(dir);
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.endsWith('.json') && !keep.includes(entry.slice(0, -'.json'.length))) await rm(path.join(dir, entry), { force: true });
    }
  }
}
