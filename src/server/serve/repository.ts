/**
 * Deploy, roll back and delete on top of a store. Writes are serialized in-process; each one
 * reads the record fresh from the store (another replica may have changed it), writes the
 * blob, then the record: the record's write is the commit point.
 */
import { randomUUID } from 'node:crypto';
import { sameConfig } from './config.js';
import { KEEP_VERSIONS, type FunctionConfig, type FunctionRecord, type StoreBackend, type VersionEntry } from './types.js';

/** A refusal with the HTTP status the admin API answers with. */
export class RepositoryError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface Committed {
  record: FunctionRecord;
  stamp: string;
  entry: VersionEntry;
  /** True when the live version already had these bytes and this config. */
  unchanged: boolean;
}

export function liveEntry(record: FunctionRecord): VersionEntry {
  const entry = record.versions.find((v) => v.version === record.current);
  if (!entry) throw new Error(`record of ${record.name} names version ${record.current}, which it does not keep`);
  return entry;
}

export class FunctionRepository {
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    readonly store: StoreBackend,
    private readonly warn: (message: string) => void = () => {},
  ) {}

  /** Runs store mutations one at a time. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => {});
    return run;
  }

  async get(name: string): Promise<{ record: FunctionRecord; stamp: string } | undefined> {
    return this.store.readRecord(name);
  }

  async list(): Promise<FunctionRecord[]> {
    const out: FunctionRecord[] = [];
    for (const name of [...(await this.store.listRecords()).keys()].sort()) {
      const got = await this.store.readRecord(name);
      if (got) out.push(got.record);
    }
    return out;
  }

  /** `secrets`: the function's secret values, stored apart from the record; the config gets their names and set id. */
  deploy(name: string, bytes: Uint8Array, sha256: string, config: FunctionConfig, secrets: Record<string, string> = {}): Promise<Committed> {
    return this.exclusive(async () => {
      const existing = (await this.store.readRecord(name))?.record;
      const names = Object.keys(secrets).sort();
      if (names.length > 0) {
        // Same values as the live version: the same set (a redeploy changes nothing); else a new set.
        const liveSet = existing ? liveEntry(existing).config.secrets : undefined;
        const same = liveSet && sameValues(await this.store.getSecrets(name, liveSet.id).catch(() => undefined), secrets);
        const id = same ? liveSet.id : randomUUID();
        if (!same) await this.store.putSecrets(name, id, secrets);
        config = { ...config, secrets: { names, id } };
      }
      if (existing) {
        const live = liveEntry(existing);
        if (live.sha256 === sha256 && sameConfig(live.config, config)) {
          return { record: existing, stamp: '', entry: live, unchanged: true };
        }
      }
      await this.store.putBlob(sha256, bytes);
      const now = new Date().toISOString();
      const next = (existing?.versions ?? []).reduce((max, v) => Math.max(max, v.version), 0) + 1;
      const entry: VersionEntry = { version: next, sha256, size: bytes.length, config, deployedAt: now };
      const all = [...(existing?.versions ?? []), entry];
      const record: FunctionRecord = { name, current: next, versions: all.slice(-KEEP_VERSIONS), updatedAt: now };
      const stamp = await this.store.writeRecord(record);
      if (all.length > KEEP_VERSIONS) await this.collectGarbage();
      await this.pruneSecrets(record);
      return { record, stamp, entry, unchanged: false };
    });
  }

  /** Makes `version` live, or by default the kept version before the live one. */
  rollback(name: string, version?: number): Promise<Committed> {
    return this.exclusive(async () => {
      const existing = (await this.store.readRecord(name))?.record;
      if (!existing) throw new RepositoryError(404, `no function named "${name}"`);
      let target: VersionEntry | undefined;
      if (version !== undefined) {
        target = existing.versions.find((v) => v.version === version);
        if (!target) throw new RepositoryError(404, `${name} has no version ${version} (kept: ${existing.versions.map((v) => v.version).join(', ')})`);
      } else {
        const at = existing.versions.findIndex((v) => v.version === existing.current);
        target = at > 0 ? existing.versions[at - 1] : undefined;
        if (!target) throw new RepositoryError(409, `${name} has no version before ${existing.current} to roll back to`);
      }
      if (target.version === existing.current) return { record: existing, stamp: '', entry: target, unchanged: true };
      const record: FunctionRecord = { ...existing, current: target.version, updatedAt: new Date().toISOString() };
      const stamp = await this.store.writeRecord(record);
      return { record, stamp, entry: target, unchanged: false };
    });
  }

  /** Deletes the function with all its versions; false when there was none. */
  remove(name: string): Promise<boolean> {
    return this.exclusive(async () => {
      if (!(await this.store.readRecord(name))) return false;
      await this.store.deleteRecord(name);
      await this.collectGarbage();
      await this.store.pruneSecrets(name, []);
      return true;
    });
  }

  /** Removes blobs no record names (a crash between blob and record leaves one; so do trims and deletes). */
  async collectGarbage(): Promise<number> {
    try {
      const referenced = new Set<string>();
      for (const record of await this.list()) for (const v of record.versions) referenced.add(v.sha256);
      const cutoff = Date.now() - this.store.blobGraceMs;
      let removed = 0;
      for (const blob of await this.store.listBlobs()) {
        if (referenced.has(blob.sha256) || blob.modifiedMs > cutoff) continue;
        await this.store.deleteBlob(blob.sha256);
        removed++;
      }
      return removed;
    } catch (error) {
      // Garbage is harmless: never fail a deploy for it.
      this.warn(`could not collect unused blobs: ${(error as Error).message}`);
      return 0;
    }
  }

  /** Secret sets no kept version names are deleted (a failure only leaves garbage). */
  private async pruneSecrets(record: FunctionRecord): Promise<void> {
    const keep = record.versions.flatMap((v) => (v.config.secrets ? [v.config.secrets.id] : []));
    try {
      await this.store.pruneSecrets(record.name, keep);
    } catch (error) {
      this.warn(`could not remove old secrets of ${record.name}: ${(error as Error).message}`);
    }
  }

  /** Collects at startup under the write lock. */
  collectNow(): Promise<number> {
    return this.exclusive(() => this.collectGarbage());
  }
}

function sameValues(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  if (!a) return false;
  const keys = Object.keys(b);
  return Object.keys(a).length === keys.length && keys.every((k) => a[k] === b[k]);
}
