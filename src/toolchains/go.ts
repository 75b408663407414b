/**
 * Go: `GOOS=wasip1 GOARCH=wasm go build` with Go >= 1.21 (the first release with wasip1),
 * or TinyGo (`tinygo build -target=wasip1`) when wfn.toml says `[build] compiler = "tinygo"`.
 * Always GOTOOLCHAIN=local (never download another Go) and GOPROXY=off (no network).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProjectConfig } from '../config/types.js';
import { ToolchainMissingError, UserError } from '../util/errors.js';
import { fallbackCacheDir, homeIsUsable, isWritableDir } from './home.js';
import { execCapture, findAllOnPath, isExecutable } from '../util/exec.js';
import { sbrkOverlayApplies, SBRK_OVERLAY_TAG, writeSbrkOverlay } from './go-memory.js';
import { PIPELINE_STEPS, type BuildContext, type CompileOutput, type ToolStatus, type Toolchain } from './types.js';

export const GO_MIN = { major: 1, minor: 21 };
export const GO_FIX =
  'install Go >= 1.21. On Debian bookworm: add the bookworm-backports suite to apt\'s sources ' +
  '(deb http://deb.debian.org/debian bookworm-backports main), then `apt-get update && apt-get install -t bookworm-backports golang-1.23-go` ' +
  '(wfn finds /usr/lib/go-1.23/bin/go by itself); elsewhere: https://go.dev/dl/';
export const TINYGO_FIX = 'install TinyGo >= 0.29 (https://tinygo.org/getting-started/install/), or remove `compiler = "tinygo"` from [build] in wfn.toml to use Go';

export interface GoInstall {
  path: string;
  /** e.g. "go1.23.5" */
  version?: string;
  major?: number;
  minor?: number;
  problem?: string;
}

export interface TinyGoInstall {
  path: string;
  /** e.g. "0.33.0" */
  version: string;
  /** -target value: wasip1 from TinyGo 0.29, wasi before. */
  target: 'wasip1' | 'wasi';
}

/** "go version go1.23.5 linux/amd64" -> version, major, minor. */
export function parseGoVersion(output: string): { version: string; major: number; minor: number } | undefined {
  const match = output.match(/\bgo((\d+)\.(\d+)(?:\.\d+)?[^\s]*)/);
  if (!match) return undefined;
  return { version: `go${match[1]}`, major: Number(match[2]), minor: Number(match[3]) };
}

export function isSupportedGo(install: Pick<GoInstall, 'major' | 'minor'>): boolean {
  if (install.major === undefined || install.minor === undefined) return false;
  return install.major > GO_MIN.major || (install.major === GO_MIN.major && install.minor >= GO_MIN.minor);
}

/** Where Go may be: PATH first, then the official tarball's place, then Debian's go-1.2x packages, newest first. */
export function goCandidates(): string[] {
  let debian: string[] = [];
  try {
    debian = readdirSync('/usr/lib')
      .map((dir) => dir.match(/^go-(\d+)\.(\d+)$/))
      .filter((m): m is RegExpMatchArray => !!m)
      .sort((a, b) => Number(b[1]) - Number(a[1]) || Number(b[2]) - Number(a[2]))
      .map((m) => `/usr/lib/${m[0]}/bin/go`);
  } catch {
    /* no /usr/lib: not a Debian-like system */
  }
  const list = [...findAllOnPath('go'), '/usr/local/go/bin/go', ...debian, '/usr/lib/go/bin/go'].filter(isExecutable);
  return [...new Set(list)];
}

/** Environment of every go command wfn runs: local toolchain, no network, writable caches. */
export function goEnvironment(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base, GOTOOLCHAIN: 'local', GOPROXY: 'off', GOWORK: 'off', CGO_ENABLED: '0' };
  // Go keeps its build cache under $XDG_CACHE_HOME or $HOME and modules under $HOME/go.
  if (!base.GOCACHE && !isWritableDir(base.XDG_CACHE_HOME) && !homeIsUsable(base)) env.GOCACHE = fallbackCacheDir('go-build');
  if (!base.GOPATH && !homeIsUsable(base)) env.GOPATH = fallbackCacheDir('gopath');
  return env;
}

export async function inspectGo(file: string): Promise<GoInstall> {
  const run = await execCapture(file, ['version'], { env: goEnvironment() });
  const parsed = run.code === 0 ? parseGoVersion(run.stdout) : undefined;
  if (!parsed) return { path: file, problem: `\`${file} version\` failed: ${(run.startError ?? run.stderr).trim().split('\n')[0]}` };
  const install: GoInstall = { path: file, ...parsed };
  if (!isSupportedGo(install)) install.problem = `${parsed.version} is too old: GOOS=wasip1 needs Go 1.21 or newer`;
  return install;
}

let goInstalls: Promise<GoInstall[]> | undefined;

/** Every go found, in preference order (cached: each probe spawns a process). */
export function findGoInstalls(candidates?: string[]): Promise<GoInstall[]> {
  if (candidates) return Promise.all(candidates.map(inspectGo));
  goInstalls ??= Promise.all(goCandidates().map(inspectGo));
  return goInstalls;
}

export function chooseGo(installs: GoInstall[]): GoInstall | undefined {
  return installs.find((install) => !install.problem);
}

/** "tinygo version 0.33.0 linux/amd64 (using go version go1.23.0 ...)" -> "0.33.0". */
export function parseTinyGoVersion(output: string): string | undefined {
  return output.match(/tinygo version (\d+\.\d+\.\d+)/)?.[1];
}

export async function findTinyGo(): Promise<TinyGoInstall | undefined> {
  const candidates = [...findAllOnPath('tinygo'), '/usr/local/tinygo/bin/tinygo'].filter(isExecutable);
  for (const file of candidates) {
    const run = await execCapture(file, ['version'], { env: goEnvironment() });
    const version = run.code === 0 ? parseTinyGoVersion(run.stdout) : undefined;
    if (!version) continue;
    const [major, minor] = version.split('.').map(Number);
    return { path: file, version, target: major > 0 || minor >= 29 ? 'wasip1' : 'wasi' };
  }
  return undefined;
}

export type GoCompiler = 'go' | 'tinygo';

export function goCompilerOf(config: ProjectConfig): GoCompiler {
  const compiler = config.build.compiler ?? 'go';
  if (compiler !== 'go' && compiler !== 'tinygo') {
    throw new UserError(`Unknown Go compiler "${compiler}" in ${config.file}.`, 'Set [build] compiler to "go" (the default) or "tinygo".');
  }
  return compiler;
}

async function requireGo(): Promise<GoInstall> {
  const installs = await findGoInstalls();
  const go = chooseGo(installs);
  if (go) return go;
  const seen = installs.map((i) => i.problem).filter(Boolean);
  throw new ToolchainMissingError(`Go >= 1.21${seen.length ? ` (found: ${seen.join('; ')})` : ''}`, GO_FIX);
}

async function requireTinyGo(): Promise<TinyGoInstall> {
  const tinygo = await findTinyGo();
  if (!tinygo) throw new ToolchainMissingError('TinyGo (chosen by `compiler = "tinygo"` in wfn.toml)', TINYGO_FIX);
  return tinygo;
}

/** The package to build: `[build] main` (a package folder), else the project folder. */
function packageArg(config: ProjectConfig): string {
  const main = config.build.main;
  if (!main) return '.';
  if (main.endsWith('.go')) {
    throw new UserError(
      `[build] main = "${main}" names a file; for Go it must name a package folder (e.g. "." or "./cmd/handler").`,
      'Building a single file would leave out the other files of its package.',
    );
  }
  return main.startsWith('.') || path.isAbsolute(main) ? main : `./${main}`;
}

function compileFailed(compiler: string, output: string): UserError {
  const text = output.trim();
  const hint = /GOTOOLCHAIN|requires go >=|go\.mod requires/i.test(text)
    ? 'go.mod asks for a newer Go than the one installed; wfn never downloads toolchains (GOTOOLCHAIN=local). Lower the `go` line in go.mod or install that Go.'
    : /GOPROXY=off|cannot find module|no required module|missing go\.sum/i.test(text)
      ? 'wfn builds offline (GOPROXY=off): keep the function dependency-free, or vendor its modules (`go mod vendor`).'
      : undefined;
  return new UserError(`${compiler} compilation failed:\n${text}`, hint);
}

export const toolchain: Toolchain = {
  language: 'go',
  // *.bin: data embedded with //go:embed, as the init template's generated primes.bin.
  steps: PIPELINE_STEPS,
  sourceGlobs: ['go.mod', 'go.sum', '**/*.go', '**/*.s', 'vendor/**', '*.bin'],

  async detect(): Promise<ToolStatus[]> {
    const installs = await findGoInstalls();
    const go = chooseGo(installs);
    const tinygo = await findTinyGo();
    const goStatus: ToolStatus = go
      ? { name: 'go (GOOS=wasip1)', found: true, usable: true, version: go.version, path: go.path }
      : {
          name: 'go (GOOS=wasip1)',
          found: installs.length > 0,
          usable: false,
          version: installs[0]?.version,
          path: installs[0]?.path,
          detail: installs.length ? installs.map((i) => i.problem).join('; ') : 'not installed',
          fix: GO_FIX,
        };
    const tinygoStatus: ToolStatus = tinygo
      ? { name: 'tinygo (optional, [build] compiler = "tinygo")', found: true, usable: !!go, version: tinygo.version, path: tinygo.path, detail: go ? undefined : 'TinyGo needs Go too', fix: go ? undefined : GO_FIX }
      : { name: 'tinygo (optional, [build] compiler = "tinygo")', found: false, usable: false, detail: 'not installed (optional)', fix: TINYGO_FIX };
    return [goStatus, tinygoStatus];
  },

  async version(config: ProjectConfig): Promise<string> {
    const go = await requireGo();
    if (goCompilerOf(config) === 'tinygo') {
      const tinygo = await requireTinyGo();
      return `tinygo ${tinygo.version} -target=${tinygo.target} (${go.version})`;
    }
    return `${go.version} wasip1/wasm${sbrkOverlayApplies(go.path) ? SBRK_OVERLAY_TAG : ''}`;
  },

  async compile(ctx: BuildContext): Promise<CompileOutput> {
    const { config } = ctx;
    if (!existsSync(path.join(config.dir, 'go.mod'))) {
      throw new UserError(`There is no go.mod in ${config.dir}.`, 'A Go function is a Go module: start from `wfn new <name> --lang go` (or run `go mod init <name>`).');
    }
    const compiler = goCompilerOf(config);
    const go = await requireGo();
    const out = path.join(ctx.workDir, 'main.wasm');
    const pkg = packageArg(config);
    let run;
    let version: string;
    if (compiler === 'tinygo') {
      const tinygo = await requireTinyGo();
      version = `tinygo ${tinygo.version} -target=${tinygo.target} (${go.version})`;
      ctx.log(`tinygo build -target=${tinygo.target} (${version})`);
      // TinyGo runs `go list` itself: put the Go we chose first on its PATH.
      const env = goEnvironment();
      env.PATH = `${path.dirname(go.path)}${path.delimiter}${env.PATH ?? ''}`;
      run = await execCapture(tinygo.path, ['build', `-target=${tinygo.target}`, '-o', out, pkg], { cwd: config.dir, env });
    } else {
      const overlay = writeSbrkOverlay(go.path, ctx.workDir);
      version = `${go.version} wasip1/wasm${overlay ? SBRK_OVERLAY_TAG : ''}`;
      ctx.log(`GOOS=wasip1 GOARCH=wasm go build (${go.version}, ${go.path})${overlay ? ', runtime sbrk without growth (go-memory.ts)' : ''}`);
      const env = { ...goEnvironment(), GOOS: 'wasip1', GOARCH: 'wasm' };
      // -trimpath and -buildvcs=false: the output depends on the sources only (not on the
      // folder or the git state), as the content-hash build cache assumes.
      run = await execCapture(go.path, ['build', '-trimpath', '-buildvcs=false', ...(overlay ? [overlay] : []), '-o', out, pkg], { cwd: config.dir, env });
    }
    if (run.code !== 0) throw compileFailed(compiler === 'go' ? 'Go' : 'TinyGo', run.startError ?? `${run.stderr}${run.stdout}`);
    if (run.stderr.trim()) ctx.log(run.stderr.trim());
    return { wasm: new Uint8Array(readFileSync(out)), toolchain: { name: compiler, version } };
  },
};
