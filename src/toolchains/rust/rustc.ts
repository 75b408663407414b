/**
 * Which rustc can build a WASI preview1 module here: every rustc found ($RUSTC, PATH,
 * Debian's), each asked for its sysroot, version and host, and whether that sysroot holds the
 * standard library of wasm32-wasip1 (rustup) or wasm32-wasi (Debian's 1.63 +
 * libstd-rust-dev-wasm32, linked with lld-14). Decided by looking, never by trying builds.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ToolchainMissingError } from '../../util/errors.js';
import { execCapture, findAllOnPath, isExecutable } from '../../util/exec.js';

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

/** "rustc 1.63.0 wasm32-wasi (debian)": what the manifest and the cache key record. */
export function describeRustBuild(plan: RustBuildPlan): string {
  return `rustc ${plan.install.release ?? '?'} ${plan.target} (${plan.install.flavor})`;
}

