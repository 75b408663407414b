/**
 * The embedded key-value store of `wfn run`, `dev` and `serve` (its file store): one SQLite file
 * per store, through better-sqlite3 (synchronous, so the function's worker thread calls it
 * directly: no thread hop, no event loop). Each worker thread opens its own connection; WAL mode
 * lets readers and one writer share the file across threads and processes, and a busy timeout
 * waits out another writer instead of failing. A file survives restarts.
 *
 * Expiry: a row keeps its expiry time (ms since the epoch); reads and lists skip expired rows and
 * a write of the same key replaces them; expired rows are deleted in small batches as writes go.
 * Order: keys are TEXT with SQLite's BINARY collation, i.e. memcmp of their UTF-8 bytes, the
 * order the API lists in. The list cursor is the last key of the page (base64url, so it has no newline).
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { KV_ERROR, type KvPage } from '../kv/abi.js';
import { KvStoreError, prefixEnd, type KvStore } from '../kv/store.js';

const require = createRequire(import.meta.url);
let Database: typeof BetterSqlite3 | undefined;

/** Rows of expired values removed per write (amortized cleanup; reads never see them anyway). */
const SWEEP_BATCH = 16;

export class SqliteKvStore implements KvStore {
  private readonly db: BetterSqlite3.Database;
  private readonly now: () => number;
  private readonly statements: {
    get: BetterSqlite3.Statement<[string, number], { value: Buffer }>;
    set: BetterSqlite3.Statement<[string, Buffer, number | null]>;
    delete: BetterSqlite3.Statement<[string]>;
    sweep: BetterSqlite3.Statement<[number, number]>;
    listFrom: BetterSqlite3.Statement<[string, number, number], { key: string }>;
    listAfter: BetterSqlite3.Statement<[string, number, number], { key: string }>;
    listRangeFrom: BetterSqlite3.Statement<[string, string, number, number], { key: string }>;
    listRangeAfter: BetterSqlite3.Statement<[string, string, number, number], { key: string }>;
  };

  /** `durable`: synchronous=FULL (a write survives power loss once acknowledged); else NORMAL (survives a crash of the process). */
  constructor(readonly file: string, options: { durable?: boolean; now?: () => number } = {}) {
    this.now = options.now ?? Date.now;
    mkdirSync(path.dirname(file), { recursive: true });
    Database ??= require('better-sqlite3') as typeof BetterSqlite3;
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.durable ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.exec('CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires INTEGER) WITHOUT ROWID');
    const live = '(expires IS NULL OR expires > ?)';
    this.statements = {
      get: this.db.prepare(`SELECT value FROM kv WHERE key = ? AND ${live}`),
      set: this.db.prepare('INSERT INTO kv (key, value, expires) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires = excluded.expires'),
      delete: this.db.prepare('DELETE FROM kv WHERE key = ?'),
      sweep: this.db.prepare('DELETE FROM kv WHERE key IN (SELECT key FROM kv WHERE expires IS NOT NULL AND expires <= ? LIMIT ?)'),
      listFrom: this.db.prepare(`SELECT key FROM kv WHERE key >= ? AND ${live} ORDER BY key LIMIT ?`),
      listAfter: this.db.prepare(`SELECT key FROM kv WHERE key > ? AND ${live} ORDER BY key LIMIT ?`),
      listRangeFrom: this.db.prepare(`SELECT key FROM kv WHERE key >= ? AND key < ? AND ${live} ORDER BY key LIMIT ?`),
      listRangeAfter: this.db.prepare(`SELECT key FROM kv WHERE key > ? AND key < ? AND ${live} ORDER BY key LIMIT ?`),
    };
  }

  get(key: string): Uint8Array | undefined {
    const row = this.statements.get.get(key, this.now());
    return row ? new Uint8Array(row.value.buffer, row.value.byteOffset, row.value.byteLength) : undefined;
  }

  set(key: string, value: Uint8Array, ttlSeconds: number): void {
    const now = this.now();
    this.statements.set.run(key, Buffer.from(value.buffer, value.byteOffset, value.byteLength), ttlSeconds > 0 ? now + ttlSeconds * 1000 : null);
    this.statements.sweep.run(now, SWEEP_BATCH);
  }

  delete(key: string): void {
    this.statements.delete.run(key);
  }

  list(prefix: string, cursor: string | undefined, limit: number): KvPage {
    let after: string | undefined;
    if (cursor !== undefined) {
      after = Buffer.from(cursor, 'base64url').toString('utf8');
      if (Buffer.from(after, 'utf8').toString('base64url') !== cursor || !after.startsWith(prefix)) {
        throw new KvStoreError(KV_ERROR.INVALID, 'the cursor is not one this store issued for this prefix');
      }
    }
    const end = prefixEnd(prefix);
    const now = this.now();
    // One more than asked: whether another page follows.
    const rows =
      end === undefined
        ? after === undefined ? this.statements.listFrom.all(prefix, now, limit + 1) : this.statements.listAfter.all(after, now, limit + 1)
        : after === undefined ? this.statements.listRangeFrom.all(prefix, end, now, limit + 1) : this.statements.listRangeAfter.all(after, end, now, limit + 1);
    const keys = rows.slice(0, limit).map((r) => r.key);
    return rows.length > limit ? { keys, cursor: Buffer.from(keys[keys.length - 1], 'utf8').toString('base64url') } : { keys };
  }

  close(): void {
    this.db.close();
  }
}

/** Where `wfn dev` and `wfn run` keep a project's stores: `<project>/.wfn/kv/<store>.sqlite`. */
export function projectKvDir(projectDir: string): string {
  return path.join(projectDir, '.wfn', 'kv');
}

/** The file of one store in a folder of stores (the name is checked against the store-name rule already). */
export function storeFile(dir: string, store: string): string {
  return path.join(dir, `${store}.sqlite`);
}

/** Stores opened on this thread, by file: one connection per file per thread. */
const opened = new Map<string, SqliteKvStore>();

export function openSqliteStore(dir: string, store: string, durable = false): SqliteKvStore {
  const file = storeFile(dir, store);
  let kv = opened.get(file);
  if (!kv) {
    kv = new SqliteKvStore(file, { durable });
    opened.set(file, kv);
  }
  return kv;
}
