/** The records `wfn serve` keeps per function, and the storage backends behind them. */
import type { Limits } from '../../config/types.js';
import type { OutboundSettings } from '../../runtime/outbound/abi.js';
import type { KvSettings } from '../../runtime/kv/abi.js';
import type { KvRequest, KvResult } from '../../runtime/kv/abi.js';
import type { KvHosting } from '../../runtime/node/pool.js';

/** How one version of a function runs: set at deploy time, travels with the version. */
export interface FunctionConfig {
  /** Variables handed to the function (CGI built-ins win over these). */
  env: Record<string, string>;
  limits: Limits;
  /** Requests of this function running at once; further ones wait in a bounded queue. Absent = the server's default. */
  concurrency?: number;
  /** `[outbound]` of its wfn.toml: who it may call and the call limits. Absent = no outbound calls. */
  outbound?: OutboundSettings;
  /** `[kv]` of its wfn.toml: the key-value stores it may open. Absent = none. */
  kv?: KvSettings;
  /**
   * The function's secrets: names only, and the id of the stored set of values (random, not
   * derived from them). The values live outside the record (StoreBackend.getSecrets).
   */
  secrets?: { names: string[]; id: string };
}

export interface VersionEntry {
  /** 1, 2, 3... per function; never reused while the function exists. */
  version: number;
  /** sha256 of the uploaded .wasm (the blob's name). */
  sha256: string;
  size: number;
  config: FunctionConfig;
  deployedAt: string;
}

/** One function: its kept versions and which one is live. Written atomically as one document. */
export interface FunctionRecord {
  name: string;
  /** The live version's number. */
  current: number;
  /** Oldest first; at most KEEP_VERSIONS. */
  versions: VersionEntry[];
  updatedAt: string;
}

export interface BlobInfo {
  sha256: string;
  /** Last write time, ms since the epoch. */
  modifiedMs: number;
}

/**
 * Where functions are kept: content-addressed blobs (the .wasm files) plus one record per
 * function. A deploy writes the blob first and the record last, so a record only ever
 * names blobs that are fully written.
 */
export interface StoreBackend {
  readonly kind: 'file' | 's3';
  /** Where, for the startup message. */
  readonly location: string;
  /** Prepare (create folders, check the bucket, clean leftovers of a crash); `warn` hears what it had to fix. */
  init(warn?: (message: string) => void): Promise<void>;
  /** Every function's name with a stamp that changes whenever its record is rewritten. */
  listRecords(): Promise<Map<string, string>>;
  readRecord(name: string): Promise<{ record: FunctionRecord; stamp: string } | undefined>;
  /** Returns the new stamp. Durable when it resolves. */
  writeRecord(record: FunctionRecord): Promise<string>;
  deleteRecord(name: string): Promise<void>;
  hasBlob(sha256: string): Promise<boolean>;
  /** Durable when it resolves. */
  putBlob(sha256: string, bytes: Uint8Array): Promise<void>;
  getBlob(sha256: string): Promise<Uint8Array>;
  listBlobs(): Promise<BlobInfo[]>;
  deleteBlob(sha256: string): Promise<void>;
  /** Stores one set of a function's secret values (never in the record; files 0600). Durable when it resolves. */
  putSecrets(name: string, id: string, values: Record<string, string>): Promise<void>;
  /** A stored set of secret values; throws when it is missing. */
  getSecrets(name: string, id: string): Promise<Record<string, string>>;
  /** Deletes the function's secret sets except those in `keep` (all of them when it is empty). */
  pruneSecrets(name: string, keep: string[]): Promise<void>;
  /** Unreferenced blobs younger than this are kept (another replica may be mid-deploy). */
  readonly blobGraceMs: number;
  /**
   * Where a function's key-value stores are kept: SQLite files of its own (file store), or on the
   * main thread through `kv` (S3 store: shared by every replica). Absent: functions get no stores.
   */
  kvBackend?(name: string): KvHosting['backend'];
  /** Performs a key-value call of function `scope` (stores whose backend is remote). */
  kv?(scope: string, request: KvRequest): Promise<KvResult>;
  close?(): void;
}

/** Versions kept per function for rollback. */
export const KEEP_VERSIONS = 10;
