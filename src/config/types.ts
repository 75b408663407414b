/** wfn.toml after parsing, validation and defaults: the languages, the optimize levels, the default limits. */
import type { Limits } from '../runtime/types.js';
import type { OutboundSettings } from '../runtime/outbound/abi.js';
import type { KvSettings } from '../runtime/kv/abi.js';

/** The languages a wfn function can be written in (the `language` key of wfn.toml). */
export const LANGUAGES = ['assemblyscript', 'rust', 'go', 'js'] as const;
export type Language = (typeof LANGUAGES)[number];

/** wasm-opt levels: O3, Oz or none from wfn.toml and `wfn build`; O1 is `wfn dev`'s light level (seconds less per save). */
export type OptimizeLevel = 'O3' | 'Oz' | 'O1' | 'none';

/** wfn.toml, after parsing, validation and defaults. */
export interface ProjectConfig {
  /** Absolute path of the wfn.toml it came from. */
  file: string;
  /** Folder that holds wfn.toml. */
  dir: string;
  name: string;
  language: Language;
  /** Route prefix the function is mounted on (`/` by default). */
  route: string;
  build: {
    optimize: OptimizeLevel;
    /** undefined = on when the module exports `wizer.initialize`. */
    snapshot?: boolean;
    /** Go only: "go" (default) or "tinygo". */
    compiler?: string;
    /** Entry source file, relative to dir (language default when absent). */
    main?: string;
  };
  /** Plain environment variables handed to the function (never secrets). */
  env: Record<string, string>;
  /** Names of secrets to read from the process environment at deploy/run time. */
  secrets: string[];
  limits: Limits;
  /** `[files]`: project folders mapped, read-only, into the function's filesystem (empty: none). */
  files: FileMapping[];
  /** `[outbound]`: the allow list (deny by default) and the limits of outbound calls. */
  outbound: OutboundSettings;
  /** `[kv]`: the key-value stores the function may open (none by default). */
  kv: KvSettings;
}

/** One `[files]` entry: `mount = dir`, or `mount = { dir, include, exclude }`. */
export interface FileMapping {
  /** Where the function sees it: "/" or "/a/b" (normalized, no trailing slash). */
  mount: string;
  /** Project-relative folder, "/"-separated, no trailing slash ("." for the project itself). */
  dir: string;
  /** Globs relative to dir (sources.ts globToRegExp); empty = every file. */
  include: string[];
  exclude: string[];
}

/** The runtime enforces the limits; wfn.toml only sets them. */
export type { Limits } from '../runtime/types.js';

export const DEFAULT_LIMITS: Limits = { memoryMiB: 128, timeoutMs: 10_000 };
