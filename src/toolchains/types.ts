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
  /** Nothing wfn does needs it; a missing one does not make its section fail. */
  optional?: boolean;
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
  /** Present when compile() pre-initialized the module (a toolchain whose steps.snapshot is 'toolchain'): what ran, for the manifest. */
  snapshot?: { initFunc: string };
}

/**
 * Who does each step after compile: the pipeline (Wizer on a module that exports
 * wizer.initialize, then wasm-opt) or the toolchain itself, inside compile(). The pipeline
 * runs exactly the steps a toolchain leaves to it.
 */
export interface ToolchainSteps {
  snapshot: 'pipeline' | 'toolchain';
  optimize: 'pipeline' | 'toolchain';
}

/** What most toolchains declare: the pipeline snapshots and optimizes. */
export const PIPELINE_STEPS: ToolchainSteps = { snapshot: 'pipeline', optimize: 'pipeline' };

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
  /** The steps after compile that this toolchain does itself. */
  steps: ToolchainSteps;
}
