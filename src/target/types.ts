/**
 * The target contract: what every target adapter (adapters/<target>/) implements and what the
 * services hand it. Below both the services and the adapters, so neither imports the other.
 */
import type { Limits } from '../runtime/types.js';
import type { OutboundSettings } from '../runtime/outbound/abi.js';
import type { KvSettings } from '../runtime/kv/abi.js';

/** What every target starts from: the one contract module `wfn build` produced. */
export interface Artifact {
  /** Function name (wfn.toml `name`, or the .wasm file's base name). */
  name: string;
  /** Path of the contract-conforming WASI preview1 module. */
  wasmPath: string;
  /** Plain environment variables configured for the function. */
  env: Record<string, string>;
  /** Names of secret variables (values come from the process environment at deploy time). */
  secrets: string[];
  limits: Limits;
  /** `[outbound]` of wfn.toml: who the function may call (deny by default) and the call limits. Every host enforces it. */
  outbound: OutboundSettings;
  /** `[kv]` of wfn.toml: the key-value stores the function may open (absent: none). Each target binds its own store to each name. */
  kv?: KvSettings;
  /** Project folder, when the artifact comes from a project (bundles go to <projectDir>/.wfn/targets/<target>/). */
  projectDir?: string;
}

export interface BundleFile {
  /** Path relative to the bundle dir. */
  path: string;
  size: number;
}

/** A target's packaged artifact on disk: exactly what deploy uploads and emulate runs. */
export interface Bundle {
  target: string;
  name: string;
  dir: string;
  files: BundleFile[];
  /** Sum of the files' sizes in bytes. */
  size: number;
  /** Compressed size where the provider limits it (gzip for Cloudflare, zip for Lambda, tar.gz for Fastly). */
  compressedSize?: number;
  /** The single file that is uploaded, when the target uploads one archive (Lambda zip, Fastly tar.gz). */
  archive?: string;
  warnings: string[];
  /**
   * Set when the package is over a size limit the provider enforces, naming the limit
   * (e.g. bundled files made the Worker too big): deploy refuses it, `wfn build --target` fails.
   */
  overLimit?: string;
  artifact: Artifact;
}

export interface EmulateOptions {
  host: string;
  port: number;
  /** One access-log line per request (same format as `wfn dev`). */
  log(line: string): void;
}

export interface Emulator {
  url: string;
  close(): Promise<void>;
}

export interface DeployOptions {
  /** Process environment to take credentials and endpoint overrides from. */
  env: NodeJS.ProcessEnv;
  /** Target-specific flags (e.g. role, serviceId, url). */
  flags: Record<string, unknown>;
  log(message: string): void;
}

export interface DeployResult {
  target: string;
  name: string;
  /** Where the function answers once deployed. */
  url?: string;
  version?: string | number;
  /** True when the provider already had these exact bytes and nothing was changed. */
  unchanged?: boolean;
  details?: Record<string, unknown>;
}

/** One deploy target. Adding a target is adding a folder under adapters/ that exports one of these. */
export interface TargetAdapter {
  name: string;
  /** True for a module this target runs as it is, outside the contract (a program built for Fastly's ABI). */
  acceptsAsIs?(wasm: Uint8Array): boolean;
  package(artifact: Artifact): Promise<Bundle>;
  emulate(bundle: Bundle, options: EmulateOptions): Promise<Emulator>;
  deploy(bundle: Bundle, options: DeployOptions): Promise<DeployResult>;
  /** `wfn ls`, `versions`, `rollback`, `rm`, `logs`; absent where wfn does not operate the target (component, spin). */
  operations?: TargetOperations;
}

// --- Operating what is deployed (`wfn ls`, `versions`, `rollback`, `rm`, `logs`) ---

/** Where a deployed function lives: the same flags and environment `deploy` takes (`--url`, `--service-id`, credentials). */
export interface OperateOptions {
  env: NodeJS.ProcessEnv;
  /** Target-specific flags, as for deploy (url, serviceId, ...). */
  flags: Record<string, unknown>;
  log(message: string): void;
}

/** One function wfn deployed on a target, as `wfn ls` shows it. */
export interface DeployedFunction {
  name: string;
  /** The live version, in the provider's own terms (serve: 3, Lambda: "7", Cloudflare: a version id, Fastly: a service version). */
  version: string;
  size?: number;
  /** sha256 (hex) of the artifact wfn uploaded, where the target keeps it. */
  sha256?: string;
  /** ISO 8601. */
  deployedAt?: string;
  url?: string;
}

/** One version of a deployed function, newest first in `versions()`'s answer. */
export interface DeployedVersion {
  version: string;
  /** True for the version that answers requests now. */
  live: boolean;
  size?: number;
  sha256?: string;
  deployedAt?: string;
}

/** One log line, the same shape on every target (`wfn logs --json` prints these as NDJSON). */
export type LogLine =
  | { kind: 'request'; time: string; method: string; path: string; status: number; durationMs: number; outcome: 'ok' | 'error' | 'timeout' | 'exception' }
  | { kind: 'stderr'; time: string; text: string };

export interface LogsOptions extends OperateOptions {
  /** Keep reading until `signal` aborts; without it, print what is there (since `since`) and return. */
  follow: boolean;
  since?: Date;
  signal: AbortSignal;
  onLine(line: LogLine): void;
}

/** What a target offers after deploy. Optional on TargetAdapter: a target without it says where to operate it instead. */
export interface TargetOperations {
  /** Where the named function lives, in words ("Lambda function hello in eu-west-1"), said before anything destructive. */
  describe(name: string, options: OperateOptions): string;
  list(options: OperateOptions): Promise<DeployedFunction[]>;
  /** Newest first. Throws a UserError when there is no such function. */
  versions(name: string, options: OperateOptions): Promise<DeployedVersion[]>;
  /** Make `to` (default: the version before the live one) live again. */
  rollback(name: string, to: string | undefined, options: OperateOptions): Promise<{ from: string; to: string }>;
  /** Delete the function and its versions; `removed: false` when it was already gone. */
  remove(name: string, options: OperateOptions): Promise<{ removed: boolean }>;
  logs(name: string, options: LogsOptions): Promise<void>;
}
