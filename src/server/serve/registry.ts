/**
 * The functions a server is serving right now: each live version compiled once, with its
 * limiter. Updated after a local deploy, and (S3 store) by polling for other replicas'
 * deploys. Updates run one at a time; a request keeps the version it started with.
 */
import { sha256 } from '../../runtime/node/load.js';
import { compileFunction } from '../../runtime/node/load.js';
import type { KvHosting, LoadedFunction, WorkerPool } from '../../runtime/node/pool.js';
import { sameConfig } from './config.js';
import { ConcurrencyLimiter } from './limiter.js';
import type { ServeLog } from './log.js';
import { liveEntry } from './repository.js';
import type { FunctionConfig, FunctionRecord, StoreBackend, VersionEntry } from './types.js';

export interface ActiveFunction {
  name: string;
  record: FunctionRecord;
  entry: VersionEntry;
  stamp: string;
  loaded: LoadedFunction;
  limiter: ConcurrencyLimiter;
}

export interface RegistryOptions {
  /** Per-function concurrency when its config does not say. */
  defaultConcurrency: number;
  /** Requests that may wait per function once its slots are taken. */
  queue: number;
  log: ServeLog;
}

/** Compiles one version of a function: validate, cap memory, check the contract (UserError when it does not conform). */
export function compileVersion(
  name: string, bytes: Uint8Array, version: number | 'new', config: FunctionConfig, secrets: Record<string, string> = {}, kvBackend?: KvHosting['backend'],
): Promise<LoadedFunction> {
  return compileFunction(bytes, `function "${name}"${version === 'new' ? '' : ` version ${version}`}`, {
    memoryMiB: config.limits.memoryMiB,
    timeoutMs: config.limits.timeoutMs,
    // Secrets are read like any variable (a configured one of the same name loses).
    fn: { route: `/${name}`, env: { ...config.env, ...secrets } },
    outbound: config.outbound,
    kv: config.kv?.stores.length && kvBackend ? { settings: config.kv, backend: kvBackend } : undefined,
  });
}

export class FunctionRegistry {
  private readonly active = new Map<string, ActiveFunction>();
  /** Stamps that failed to load, so a poll does not retry (and re-log) them every time. */
  private readonly failed = new Map<string, string>();
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: StoreBackend,
    private readonly pool: WorkerPool,
    private readonly options: RegistryOptions,
  ) {}

  /** Where function `name` keeps its key-value stores on this server's store. */
  kvBackend(name: string): KvHosting['backend'] | undefined {
    return this.store.kvBackend?.(name);
  }

  get(name: string): ActiveFunction | undefined {
    return this.active.get(name);
  }

  get size(): number {
    return this.active.size;
  }

  all(): ActiveFunction[] {
    return [...this.active.values()];
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => {});
    return run;
  }

  /**
   * Re-reads one function from the store and serves what it says (or drops the function).
   * Called after every local change: reading after the commit, one update at a time, means
   * the last refresh always matches the last commit even when changes race.
   * `compiled` is the new version already compiled by the deploy, used when it is still live.
   */
  refresh(name: string, compiled?: { sha256: string; config: FunctionConfig; loaded: LoadedFunction }): Promise<void> {
    return this.serial(async () => {
      const got = await this.store.readRecord(name);
      if (!got) {
        const gone = this.active.get(name);
        this.active.delete(name);
        this.failed.delete(name);
        if (gone) this.pool.forget(gone.loaded.key);
        return;
      }
      const live = liveEntry(got.record);
      const reuse = compiled && compiled.sha256 === live.sha256 && sameConfig(compiled.config, live.config) ? compiled.loaded : undefined;
      await this.install(got.record, got.stamp, reuse);
    });
  }

  /** Brings the live set in line with the store (at startup, and on every poll). */
  sync(): Promise<void> {
    return this.serial(async () => {
      const listed = await this.store.listRecords();
      for (const [name, stamp] of listed) {
        if (this.active.get(name)?.stamp === stamp || this.failed.get(name) === stamp) continue;
        try {
          const got = await this.store.readRecord(name);
          if (got) await this.install(got.record, got.stamp);
        } catch (error) {
          this.failed.set(name, stamp);
          this.options.log.error(`cannot load function "${name}": ${(error as Error).message}`);
        }
      }
      for (const name of [...this.active.keys()]) {
        if (listed.has(name)) continue;
        const gone = this.active.get(name)!;
        this.active.delete(name);
        this.pool.forget(gone.loaded.key);
        this.options.log.info(`function "${name}" was deleted`);
      }
    });
  }

  private async install(record: FunctionRecord, stamp: string, loaded?: LoadedFunction): Promise<void> {
    const entry = liveEntry(record);
    const previous = this.active.get(record.name);
    if (!loaded) {
      if (previous && previous.entry.sha256 === entry.sha256 && sameConfig(previous.entry.config, entry.config)) {
        loaded = previous.loaded;
      } else {
        const bytes = await this.store.getBlob(entry.sha256);
        // A blob that does not match its name is never served (a damaged disk or bucket).
        if (sha256(bytes) !== entry.sha256) throw new Error(`stored module for version ${entry.version} does not match its sha256 ${entry.sha256}`);
        const secrets = entry.config.secrets ? await this.store.getSecrets(record.name, entry.config.secrets.id) : {};
        loaded = await compileVersion(record.name, bytes, entry.version, entry.config, secrets, this.kvBackend(record.name));
      }
    }
    const concurrency = entry.config.concurrency ?? this.options.defaultConcurrency;
    const limiter = previous?.limiter ?? new ConcurrencyLimiter(concurrency, this.options.queue);
    limiter.concurrency = concurrency;
    limiter.pump();
    this.active.set(record.name, { name: record.name, record, entry, stamp, loaded, limiter });
    this.failed.delete(record.name);
    if (previous && previous.loaded.key !== loaded.key) this.pool.forget(previous.loaded.key);
    if (!previous || previous.entry.version !== entry.version) this.options.log.info(`serving ${record.name} version ${entry.version} (sha256 ${entry.sha256.slice(0, 12)})`);
  }
}
