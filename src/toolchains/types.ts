import type { Language, OptimizeLevel, ProjectConfig } from '../config/types.js';

/** One tool wfn looked for, as `wfn doctor` reports it. */
export interface ToolStatus {
  /** Short name, e.g. "cargo (wasm32-wasi)". */
  name: string;
  found: boolean;
  usable: boolean;
  version?: string;
  path?: string;
  /** Why it is not usable, when it is not. */
  detail?: string;
  /** The exact command(s) that fix it. */
  fix?: string;
}

export interface BuildContext {
  config: ProjectConfig;
  /** The effective wasm-opt level (flag, else wfn.toml): toolchains with their own size modes follow it. */
  optimize: OptimizeLevel;
  /** Scratch folder for intermediate files (inside .wfn/build/). Exists. */
  workDir: string;
  /** Progress lines for the user (already prefixed by the caller). */
  log(message: string): void;
  /** The snapshot choice (--[no-]snapshot, else wfn.toml); undefined = the toolchain's default. */
  snapshot?: boolean;
  /** What version() answered: the pipeline asks once (for the cache key) and hands it on. */
  version?: string;
}

export interface CompileOutput {
  /** The raw (unoptimized) WASI preview1 module the toolchain produced. */
  wasm: Uint8Array;
  /** Toolchain name and version, recorded in the manifest and in the cache key. */
  toolchain: { name: string; version: string };
  /**
   * The toolchain already optimized the module (the JavaScript engine is linked and cleaned up
   * with wasm-opt once): a second wasm-opt pass costs seconds for ~2 %, so the pipeline skips it.
   */
  optimized?: boolean;
  /**
   * The toolchain pre-initialized the module itself (JavaScript: componentize-qjs ran the
   * script's top-level code under Wizer), so the pipeline records a snapshot without Wizer.
   */
  snapshotted?: boolean;
}

/** A language's compiler behind one narrow interface (as the Fastly CLI's Go `Toolchain`). */
export interface Toolchain {
  language: Language;
  /** Every tool this language needs, found or not, with the exact fix. */
  detect(): Promise<ToolStatus[]>;
  /** Version string of the compiler that build() would use; throws ToolchainMissingError. */
  version(config: ProjectConfig): Promise<string>;
  /** Compile the project into a WASI preview1 command module. */
  compile(ctx: BuildContext): Promise<CompileOutput>;
  /** Globs (relative to the project dir) whose content is an input of the build. */
  sourceGlobs: string[];
}
