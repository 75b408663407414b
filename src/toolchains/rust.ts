/**
 * Rust: `cargo build --release` for wasm32-wasip1 (rustup) or wasm32-wasi (Debian's
 * rustc 1.63 + libstd-rust-dev-wasm32 + lld-14). Which one is usable is decided by looking
 * for the target's standard library in each rustc's sysroot, never by trying builds.
 *
 * Two things keep both toolchains working on the same project:
 * - cargo runs with RUSTC set to the chosen rustc (rustup's proxy shadows /usr/bin/rustc
 *   on PATH, and a proxy `cargo` would pick rustup's rustc);
 * - Cargo.lock never stays at version 4, which Debian's cargo 1.65 cannot read.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ProjectConfig } from '../config/types.js';
import { ToolchainMissingError, UserError } from '../util/errors.js';
import { fallbackCacheDir, homeIsUsable } from './home.js';
import { execCapture, findAllOnPath, isExecutable } from '../util/exec.js';
import type { BuildContext, CompileOutput, ToolStatus, Toolchain } from './types.js';

/** WASI preview1 targets, preferred first (wasm32-wasi is the pre-1.78 name of wasip1). */
export const RUST_TARGETS = ['wasm32-wasip1', 'wasm32-wasi'] as const;
export type RustTarget = (typeof RUST_TARGETS)[number];

export const DEBIAN_RUSTC = '/usr/bin/rustc';
export const RUSTUP_FIX = 'rustup target add wasm32-wasip1';
export const DEBIAN_FIX = 'apt-get install rustc cargo libstd-rust-dev-wasm32 lld-14';

/** Where a rustc comes from: decides the fix we suggest. */
export type RustFlavor = 'rustup' | 'debian' | 'other';

/** One rustc found on this machine and what it can build. */
export interface RustInstall {
  /** The rustc as found (a PATH entry, $RUSTC or /usr/bin/rustc). */
  found: string;
  flavor: RustFlavor;
  /** The rustc and cargo wfn runs (the sysroot's own binaries when they exist). */
  rustc: string;
  cargo?: string;
  sysroot?: string;
  /** e.g. "1.63.0". */
  release?: string;
  host?: string;
  /** WASI targets whose standard library is installed in the sysroot. */
  targets: RustTarget[];
  /** A wasm linker to configure explicitly (only when the sysroot has no rust-lld). */
  linker?: string;
  /** Why it cannot build WebAssembly, when it cannot. */
  problem?: string;
  /** The exact command that fixes `problem`. */
  fix?: string;
}

export interface RustBuildPlan {
  install: RustInstall;
  target: RustTarget;
}

/** True when `<sysroot>/lib/rustlib/<target>/lib` holds the target's std rlib. */
export function hasTargetStd(sysroot: string, target: string): boolean {
  const dir = path.join(sysroot, 'lib', 'rustlib', target, 'lib');
  try {
    return readdirSync(dir).some((file) => /^libstd-.*\.rlib$/.test(file));
  } catch {
    return false;
  }
}

function rustFlavor(found: string, sysroot: string): RustFlavor {
  if (sysroot.split(path.sep).includes('.rustup')) return 'rustup';
  if (sysroot === '/usr') return 'debian';
  return isExecutable(path.join(path.dirname(found), 'rustup')) ? 'rustup' : 'other';
}

/** A wasm linker for a sysroot without its own rust-lld (Debian's rustc relies on lld-14). */
function findWasmLinker(rustcDir: string): string | undefined {
  const versions = Array.from({ length: 12 }, (_, i) => 25 - i); // lld-25 ... lld-14
  const candidates = [
    path.join(rustcDir, 'rust-lld'),
    ...findAllOnPath('rust-lld'),
    ...findAllOnPath('wasm-ld'),
    ...versions.flatMap((v) => [`/usr/bin/wasm-ld-${v}`, `/usr/bin/lld-${v}`]),
  ];
  return candidates.find(isExecutable);
}

/** Asks one rustc for its sysroot, version and host, and checks what it can build. */
export async function inspectRustc(found: string, cwd?: string): Promise<RustInstall> {
  const [sysrootRun, versionRun] = await Promise.all([
    execCapture(found, ['--print', 'sysroot'], { cwd }),
    execCapture(found, ['-vV'], { cwd }),
  ]);
  const base: RustInstall = { found, flavor: found === DEBIAN_RUSTC ? 'debian' : 'other', rustc: found, targets: [] };
  if (sysrootRun.code !== 0 || versionRun.code !== 0) {
    const output = [sysrootRun.startError, sysrootRun.stderr, versionRun.stderr].find((text) => text?.trim())?.trim().split('\n')[0] ?? '';
    const rustupish = found.includes(`${path.sep}.cargo${path.sep}`);
    return {
      ...base,
      flavor: rustupish ? 'rustup' : base.flavor,
      problem: `${found} does not run: ${output}`,
      fix: rustupish ? 'rustup default stable && rustup target add wasm32-wasip1' : DEBIAN_FIX,
    };
  }
  const sysroot = sysrootRun.stdout.trim();
  const field = (name: string) => versionRun.stdout.match(new RegExp(`^${name}: (.+)$`, 'm'))?.[1]?.trim();
  const release = field('release');
  const host = field('host');
  const flavor = rustFlavor(found, sysroot);
  const own = (tool: string) => path.join(sysroot, 'bin', tool);
  const rustc = isExecutable(own('rustc')) ? own('rustc') : found;
  const cargo = [own('cargo'), path.join(path.dirname(found), 'cargo'), ...findAllOnPath('cargo')].find(isExecutable);
  const targets = RUST_TARGETS.filter((target) => hasTargetStd(sysroot, target));
  const install: RustInstall = { found, flavor, rustc, cargo, sysroot, release, host, targets };

  const fixFor = flavor === 'rustup' ? RUSTUP_FIX : flavor === 'debian' ? DEBIAN_FIX : undefined;
  if (targets.length === 0) {
    install.problem = `the WebAssembly standard library (${RUST_TARGETS.join(' or ')}) is not installed in ${sysroot}`;
    install.fix = fixFor ?? `install the wasm32-wasip1 standard library for ${found}, or ${RUSTUP_FIX} with rustup`;
    return install;
  }
  if (!cargo) {
    install.problem = 'cargo was not found';
    install.fix = flavor === 'rustup' ? 'rustup component add cargo' : flavor === 'debian' ? 'apt-get install cargo' : 'install cargo';
    return install;
  }
  const ownLld = host && isExecutable(path.join(sysroot, 'lib', 'rustlib', host, 'bin', 'rust-lld'));
  if (!ownLld) {
    install.linker = findWasmLinker(path.dirname(rustc));
    if (!install.linker) {
      install.problem = 'no WebAssembly linker (rust-lld, wasm-ld or lld) was found';
      install.fix = flavor === 'debian' ? 'apt-get install lld-14' : 'install lld (wasm-ld)';
    }
  }
  return install;
}

/** rustc candidates, most preferred first: $RUSTC, every rustc on PATH, then Debian's. */
export function rustcCandidates(): string[] {
  const list = [process.env.RUSTC, ...findAllOnPath('rustc'), DEBIAN_RUSTC].filter(
    (file): file is string => !!file && isExecutable(file),
  );
  return [...new Set(list)];
}

const inspected = new Map<string, Promise<RustInstall[]>>();

/** Every usable-or-not rustc, one per sysroot. Cached per project folder (each probe spawns rustc). */
export function findRustInstalls(options: { cwd?: string; candidates?: string[] } = {}): Promise<RustInstall[]> {
  const candidates = options.candidates ?? rustcCandidates();
  const key = `${options.cwd ?? ''}\0${candidates.join('\0')}`;
  let pending = inspected.get(key);
  if (!pending) {
    pending = Promise.all(candidates.map((rustc) => inspectRustc(rustc, options.cwd))).then((installs) => {
      const seen = new Set<string>();
      return installs.filter((install) => {
        const id = install.sysroot ?? install.found;
        if (seen.has(id)) return false;
        seen.add(id);
        return true;
      });
    });
    inspected.set(key, pending);
  }
  return pending;
}

/** The first usable install for wasm32-wasip1, else for wasm32-wasi. */
export function chooseRustBuild(installs: RustInstall[]): RustBuildPlan | undefined {
  for (const target of RUST_TARGETS) {
    const install = installs.find((i) => !i.problem && i.targets.includes(target));
    if (install) return { install, target };
  }
  return undefined;
}

/** The exact fix when no install is usable: for what is there, else both ways. */
export function rustMissingFix(installs: RustInstall[]): string {
  const fixes = [...new Set(installs.map((i) => i.fix).filter((fix): fix is string => !!fix))];
  if (fixes.length > 0) return fixes.join('   or   ');
  return `${DEBIAN_FIX} (Debian/Ubuntu), or install rustup (https://rustup.rs) and run: ${RUSTUP_FIX}`;
}

export async function requireRustBuild(cwd?: string): Promise<RustBuildPlan> {
  const installs = await findRustInstalls({ cwd });
  const plan = chooseRustBuild(installs);
  if (!plan) throw new ToolchainMissingError('Rust for WebAssembly (wasm32-wasip1 or wasm32-wasi)', rustMissingFix(installs));
  return plan;
}

function describe(plan: RustBuildPlan): string {
  return `rustc ${plan.install.release ?? '?'} ${plan.target} (${plan.install.flavor})`;
}

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
export function cargoMessages(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !/^\s*(Compiling|Finished|Blocking|Fresh|Running|Building|Locking|Updating)\b/.test(line))
    .join('\n')
    .trim();
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
    return describe(await requireRustBuild(config.dir));
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
    const run = await execCapture(plan.install.cargo!, args, { cwd: config.dir, env: cargoEnvironment(plan, targetDir) });

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
    return { wasm: new Uint8Array(readFileSync(artifact.file)), toolchain: { name: 'rustc', version: describe(plan) } };
  },
};
