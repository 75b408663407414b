/**
 * Rust: `cargo build --release` for wasm32-wasip1 (rustup) or wasm32-wasi (Debian's
 * rustc 1.63 + libstd-rust-dev-wasm32 + lld-14), with the rustc that rustc.ts chose.
 *
 * Two things keep both toolchains working on the same project:
 * - cargo runs with RUSTC set to the chosen rustc (rustup's proxy shadows /usr/bin/rustc
 *   on PATH, and a proxy `cargo` would pick rustup's rustc);
 * - Cargo.lock never stays at version 4, which Debian's cargo 1.65 cannot read.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ProjectConfig } from '../../config/types.js';
import { UserError } from '../../util/errors.js';
import { execCapture } from '../../util/exec.js';
import { fallbackCacheDir, homeIsUsable } from '../home.js';
import { PIPELINE_STEPS, type BuildContext, type CompileOutput, type ToolStatus, type Toolchain } from '../types.js';
import { chooseRustBuild, DEBIAN_FIX, describeRustBuild, findRustInstalls, requireRustBuild, RUSTUP_FIX, type RustBuildPlan, type RustInstall } from './rustc.js';

/** The environment cargo runs in: our rustc, offline, the target dir under .wfn/. */
export function cargoEnvironment(plan: RustBuildPlan, targetDir: string, base: NodeJS.ProcessEnv = process.env) {
  const env: NodeJS.ProcessEnv = {
    ...base,
    RUSTC: plan.install.rustc,
    CARGO_TARGET_DIR: targetDir,
    CARGO_NET_OFFLINE: 'true',
    CARGO_TERM_COLOR: 'never',
  };
  delete env.CARGO_BUILD_TARGET_DIR;
  delete env.RUSTUP_TOOLCHAIN; // we run the sysroot's cargo directly; a proxy setting must not redirect it
  if (plan.install.linker) {
    env[`CARGO_TARGET_${plan.target.toUpperCase().replace(/-/g, '_')}_LINKER`] = plan.install.linker;
  }
  if (!base.CARGO_HOME && !homeIsUsable(base)) env.CARGO_HOME = fallbackCacheDir('cargo');
  return env;
}

export type LockfileState = 'absent' | 'readable' | 'downgraded' | 'v4-with-git';

/**
 * Keeps Cargo.lock readable by Debian's cargo (lockfile v3). Version 4 differs from 3 only
 * in how git source URLs are escaped, so without git sources the files are the same apart
 * from the version line. With git sources it is left alone (and reported).
 */
export function keepCargoLockV3(dir: string): LockfileState {
  const file = path.join(dir, 'Cargo.lock');
  if (!existsSync(file)) return 'absent';
  const text = readFileSync(file, 'utf8');
  if (!/^version = 4[ \t]*$/m.test(text)) return 'readable';
  if (/^source = "git\+/m.test(text)) return 'v4-with-git';
  writeFileSync(file, text.replace(/^version = 4[ \t]*$/m, 'version = 3'));
  return 'downgraded';
}

/** cargo's stderr without progress lines: what the user needs to read. */
const CARGO_STATUS = /^\s*(Compiling|Finished|Blocking|Fresh|Running|Building|Locking|Updating|Downloading|Downloaded)\b/;
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export function cargoMessages(stderr: string): string {
  return stderr
    .replace(ANSI, '')
    .split(/\r\n|\r|\n/)
    .filter((line) => !CARGO_STATUS.test(line))
    .join('\n')
    .trim();
}

/**
 * On a terminal, cargo's own progress (its status lines and progress bar) is shown live, as
 * cargo shows it: a first build of a crate with dependencies takes a while. Its warnings and
 * errors are not: wfn prints those once, after. Off a terminal, nothing extra.
 */
function liveCargoProgress(): { env: Record<string, string>; onStderr?: (chunk: string) => void } {
  if (!process.stderr.isTTY) return { env: {} };
  return {
    env: { CARGO_TERM_PROGRESS_WHEN: 'always', CARGO_TERM_PROGRESS_WIDTH: String(Math.max(40, Math.min(process.stderr.columns ?? 80, 120))), CARGO_TERM_COLOR: 'always' },
    onStderr(chunk) {
      for (const part of chunk.split(/(?<=\n)|(?=\r)/)) {
        const text = part.replace(ANSI, '').replace(/^\r/, '');
        // Status lines, the bar, and the bare "\r + erase line" that clears the bar.
        if (CARGO_STATUS.test(text) || text.trim() === '') process.stderr.write(part);
      }
    },
  };
}

interface CargoArtifact {
  reason: string;
  target?: { name: string; kind: string[]; src_path: string };
  executable?: string | null;
}

/** The .wasm executables cargo reported on stdout (--message-format=json). */
export function wasmArtifacts(stdout: string): { name: string; srcPath: string; file: string }[] {
  const found: { name: string; srcPath: string; file: string }[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    let message: CargoArtifact;
    try {
      message = JSON.parse(line) as CargoArtifact;
    } catch {
      continue;
    }
    const { target, executable } = message;
    if (message.reason === 'compiler-artifact' && target?.kind.includes('bin') && executable?.endsWith('.wasm')) {
      found.push({ name: target.name, srcPath: target.src_path, file: executable });
    }
  }
  return found;
}

function pickArtifact(config: ProjectConfig, artifacts: ReturnType<typeof wasmArtifacts>) {
  if (config.build.main) {
    const wanted = path.resolve(config.dir, config.build.main);
    const match = artifacts.find((a) => path.resolve(a.srcPath) === wanted);
    if (!match) {
      throw new UserError(`No binary target of the package is built from ${config.build.main}.`, 'Set [build] main in wfn.toml to the source file of one [[bin]] (e.g. src/main.rs).');
    }
    return match;
  }
  if (artifacts.length === 1) return artifacts[0];
  if (artifacts.length === 0) {
    throw new UserError('cargo built no WebAssembly binary.', 'A function is a binary crate: add src/main.rs with a `fn main()`.');
  }
  throw new UserError(
    `The package has several binaries (${artifacts.map((a) => a.name).join(', ')}); wfn needs one.`,
    'Set [build] main in wfn.toml to the source file of the one to deploy (e.g. src/main.rs).',
  );
}

function offlineHint(output: string): string | undefined {
  if (/offline|crates\.io|failed to (download|load source|get)|no matching package/i.test(output)) {
    return 'wfn builds offline and crates.io may not be reachable: keep the function dependency-free, vendor its crates (`cargo vendor`), or with Debian\'s toolchain use its librust-*-dev crates through a [source] replacement to /usr/share/cargo/registry.';
  }
  if (/lock file version/i.test(output)) {
    return 'Cargo.lock was written by a newer cargo (version 4). Delete it, or add `rust-version = "1.63"` under [package] so cargo writes version 3.';
  }
  return undefined;
}

export const toolchain: Toolchain = {
  language: 'rust',
  steps: PIPELINE_STEPS,
  sourceGlobs: ['Cargo.toml', 'Cargo.lock', 'build.rs', 'src/**', '.cargo/config.toml', '.cargo/config', 'rust-toolchain', 'rust-toolchain.toml'],

  async detect(): Promise<ToolStatus[]> {
    const installs = await findRustInstalls();
    const plan = chooseRustBuild(installs);
    const status = (install: RustInstall | undefined, name: string, fix: string): ToolStatus => {
      if (!install) return { name, found: false, usable: false, detail: 'not installed', fix };
      const used = plan?.install === install ? ' (used for builds)' : '';
      return {
        name,
        found: true,
        usable: !install.problem,
        version: install.release ? `rustc ${install.release}${install.targets.length ? `, ${install.targets.join(', ')}` : ''}${used}` : undefined,
        path: install.rustc,
        detail: install.problem,
        fix: install.problem ? install.fix : undefined,
      };
    };
    const rustup = installs.find((i) => i.flavor === 'rustup');
    const debian = installs.find((i) => i.flavor === 'debian');
    return [
      status(rustup, 'rust (rustup, wasm32-wasip1)', `install rustup (https://rustup.rs), then: ${RUSTUP_FIX}`),
      status(debian, 'rust (Debian /usr/bin/rustc, wasm32-wasi)', DEBIAN_FIX),
      ...installs.filter((i) => i.flavor === 'other').map((i) => status(i, `rust (${i.found})`, RUSTUP_FIX)),
    ];
  },

  async version(config: ProjectConfig): Promise<string> {
    return describeRustBuild(await requireRustBuild(config.dir));
  },

  async compile(ctx: BuildContext): Promise<CompileOutput> {
    const { config } = ctx;
    const manifest = path.join(config.dir, 'Cargo.toml');
    if (!existsSync(manifest)) {
      throw new UserError(`There is no Cargo.toml in ${config.dir}.`, 'A Rust function is a Cargo package: start from `wfn new <name> --lang rust`.');
    }
    const plan = await requireRustBuild(config.dir);
    keepCargoLockV3(config.dir); // a v4 lock left by another cargo would stop Debian's
    const targetDir = path.join(config.dir, '.wfn', 'cargo-target');
    const args = ['build', '--release', '--offline', '--target', plan.target, '--message-format=json-render-diagnostics', '--manifest-path', manifest];
    const from = plan.install.flavor === 'debian' ? "Debian's" : plan.install.flavor;
    ctx.log(`cargo build --release --target ${plan.target} (rustc ${plan.install.release}, ${from} ${plan.install.cargo})`);
    const live = liveCargoProgress();
    const run = await execCapture(plan.install.cargo!, args, { cwd: config.dir, env: { ...cargoEnvironment(plan, targetDir), ...live.env }, onStderr: live.onStderr });
    if (live.onStderr) process.stderr.write('\r\x1b[K'); // the last progress bar

    const lock = keepCargoLockV3(config.dir);
    if (lock === 'downgraded') ctx.log('Cargo.lock: set back to version 3, so that every cargo (Debian\'s 1.65 too) can read it');
    if (lock === 'v4-with-git') ctx.log('warning: Cargo.lock is version 4 (git dependencies); Debian\'s cargo cannot read it');

    const messages = cargoMessages(run.stderr);
    if (run.code !== 0) {
      const why = run.startError ? `cargo could not start: ${run.startError}` : messages || `cargo exited with code ${run.code}`;
      throw new UserError(`Rust compilation failed:\n${why}`, offlineHint(messages));
    }
    if (messages) ctx.log(messages); // warnings
    const artifact = pickArtifact(config, wasmArtifacts(run.stdout));
    return { wasm: new Uint8Array(readFileSync(artifact.file)), toolchain: { name: 'rustc', version: describeRustBuild(plan) } };
  },
};
