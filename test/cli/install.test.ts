// wfn installs like a CLI: `npm pack` (prepack builds lib/) and `npm install -g <tarball>`
// into a temporary prefix give a `wfn` on PATH that scaffolds, builds and runs a function in
// a folder outside this repository. Slow (npm installs every dependency, from its cache when
// it can): one language, AssemblyScript, the one with no system toolchain.
import { spawn } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { wfnInvocation } from '../../src/project/scaffold.js';
import { packageRoot } from '../../src/util/paths.js';

const root = packageRoot();

function run(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: { ...process.env, NO_COLOR: '1', ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** PATH without any node_modules/.bin (npm test adds this repository's). */
const cleanPath = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d && !d.includes(`${path.sep}node_modules${path.sep}`)).join(path.delimiter);

describe('wfnInvocation: the "Next:" lines fit how wfn is installed', () => {
  it('wfn on PATH: `wfn`; in a project install: `npx wfn`; else this CLI by its path', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'wfn-invocation-'));
    const bin = path.join(work, 'bin');
    await mkdir(bin);
    await writeFile(path.join(bin, 'wfn'), '#!/bin/sh\n');
    await chmod(path.join(bin, 'wfn'), 0o755);
    const project = path.join(work, 'app', 'fn');
    await mkdir(project, { recursive: true });
    expect(wfnInvocation(project, `${bin}${path.delimiter}/usr/bin`)).toBe('wfn');
    expect(wfnInvocation(project, '/usr/bin')).toBe(`node ${path.join(root, 'bin', 'run.js')}`);
    await mkdir(path.join(work, 'app', 'node_modules', '.bin'), { recursive: true });
    await writeFile(path.join(work, 'app', 'node_modules', '.bin', 'wfn'), '#!/bin/sh\n');
    await chmod(path.join(work, 'app', 'node_modules', '.bin', 'wfn'), 0o755);
    expect(wfnInvocation(project, '/usr/bin')).toBe('npx wfn');
    // Under npx or an npm script, the project's node_modules/.bin is on PATH: still `npx wfn`.
    expect(wfnInvocation(project, `${path.join(work, 'app', 'node_modules', '.bin')}${path.delimiter}/usr/bin`)).toBe('npx wfn');
  });
});

describe('npm pack + npm install -g', () => {
  it('gives a working wfn outside the repository', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'wfn-install-'));
    try {
      await packInstallAndUse(work);
    } finally {
      await rm(work, { recursive: true, force: true }); // about 900 MiB of dependencies
    }
  }, 900_000);
});

async function packInstallAndUse(work: string): Promise<void> {
  // Pack a copy: prepack rebuilds lib/ from scratch, which must not pull lib/ from under
  // the other tests running on this checkout.
  const copy = path.join(work, 'wfn');
  const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { files: string[] };
  for (const entry of [...pkg.files.filter((f) => f !== 'lib'), 'src', 'package.json', 'package-lock.json', 'tsconfig.json']) {
    await cp(path.join(root, entry), path.join(copy, entry), { recursive: true });
  }
  await symlink(path.join(root, 'node_modules'), path.join(copy, 'node_modules'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: copy });
  expect(packed.code, packed.stderr).toBe(0);
  const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  const files = info.files.map((f) => f.path);
  // What the CLI needs at run time: the compiled commands, the worker script, the JS guest
  // runtime esbuild bundles, the templates, the adapters' assets; and no tests.
  for (const f of ['bin/run.js', 'lib/src/commands/build.js', 'lib/src/runtime/node/pool-worker.js', 'lib/src/guest/js/globals.js', 'lib/src/guest/js/serve.js', 'templates/assemblyscript/http/wfn.toml', 'adapters/fastly/adapter.wat', 'scripts/unshadow-node.js']) {
    expect(files).toContain(f);
  }
  expect(files.some((f) => f.startsWith('test/'))).toBe(false);

  // better-sqlite3's install downloads a prebuilt binary; offline, prebuild-install fails and it
  // compiles SQLite instead (82 s per install on a quiet machine of this kind, 2 s with this).
  // Hand it the binary this checkout built, as a local prebuild: the file a user's download gives.
  const prebuilds = path.join(work, 'prebuilds');
  await mkdir(prebuilds);
  const sqliteDir = path.join(root, 'node_modules', 'better-sqlite3');
  const sqliteVersion = (JSON.parse(await readFile(path.join(sqliteDir, 'package.json'), 'utf8')) as { version: string }).version;
  const prebuilt = path.join(prebuilds, `better-sqlite3-v${sqliteVersion}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`);
  const tarred = await run('tar', ['czf', prebuilt, '-C', sqliteDir, 'build/Release/better_sqlite3.node'], { cwd: work });
  expect(tarred.code, tarred.stderr).toBe(0);
  const npmEnv = { npm_config_better_sqlite3_local_prebuilds: prebuilds };

  const prefix = path.join(work, 'prefix');
  const installed = await run('npm', ['install', '-g', path.join(work, info.filename), '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: work, env: npmEnv, timeoutMs: 600_000 });
  expect(installed.code, installed.stderr).toBe(0);

  const env = { PATH: `${path.join(prefix, 'bin')}${path.delimiter}${cleanPath}` };
  const outside = path.join(work, 'elsewhere');
  await mkdir(outside);
  const created = await run('wfn', ['new', 'hello', '--lang', 'assemblyscript'], { cwd: outside, env });
  expect(created.code, created.stderr).toBe(0);
  expect(created.stdout).toContain('\n  wfn build\n  wfn dev');
  const project = path.join(outside, 'hello');
  const built = await run('wfn', ['build', '--json'], { cwd: project, env });
  expect(built.code, built.stderr).toBe(0);
  expect(JSON.parse(built.stdout).artifact).toBe(path.join(project, 'dist', 'hello.wasm'));
  const ran = await run('wfn', ['run', '--path', '/x?n=3', '--data', 'yo'], { cwd: project, env });
  expect(ran.code, ran.stderr).toBe(0);
  expect(ran.stdout).toBe('HTTP/1.1 200 OK\ncontent-type: application/json\n\n{"method":"POST","path":"/x","query":{"n":"3"},"body":"yo"}');
  // The oclif hook ships too: a mistyped command gets "did you mean".
  const typo = await run('wfn', ['biuld'], { cwd: project, env });
  expect(typo.code).toBe(2);
  expect(typo.stderr).toContain('Did you mean "build"?');
  const which = await run('wfn', ['doctor', '--json'], { cwd: project, env });
  // doctor finds the installed copy's own tools (asc, wasm-opt, wizer) under the prefix.
  const report = JSON.parse(which.stdout) as { sections: { name: string; ok: boolean; tools: { name: string; path?: string; usable: boolean; optional?: boolean }[] }[] };
  expect(report.sections.find((s) => s.name === 'tools')?.ok, which.stdout).toBe(true);
  const tools = report.sections.flatMap((s) => s.tools);
  const own = tools.filter((t) => t.path?.startsWith(prefix) && !t.optional);
  expect(own.length, JSON.stringify(tools)).toBeGreaterThan(0);
  expect(own.every((t) => t.usable), JSON.stringify(own)).toBe(true);

  // A project-local install (npm hoists wfn's dependencies beside it): `npx wfn`, without a global wfn.
  const app = path.join(work, 'app');
  await mkdir(app);
  await writeFile(path.join(app, 'package.json'), '{ "name": "app", "private": true }\n');
  const local = await run('npm', ['install', '--save-dev', path.join(work, info.filename), '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env: npmEnv, timeoutMs: 600_000 });
  expect(local.code, local.stderr).toBe(0);
  const localEnv = { PATH: cleanPath };
  const scaffolded = await run('npx', ['--no-install', 'wfn', 'new', 'fn', '--lang', 'assemblyscript'], { cwd: app, env: localEnv });
  expect(scaffolded.code, scaffolded.stderr).toBe(0);
  expect(scaffolded.stdout).toContain('\n  npx wfn build\n  npx wfn dev');
  const localBuild = await run('npx', ['--no-install', 'wfn', 'build'], { cwd: path.join(app, 'fn'), env: localEnv });
  expect(localBuild.code, localBuild.stderr).toBe(0);
  // Its tools are found where npm hoisted them: <app>/node_modules/.bin.
  const localDoctor = JSON.parse((await run('npx', ['--no-install', 'wfn', 'doctor', '--json'], { cwd: app, env: localEnv })).stdout) as { sections: { name: string; ok: boolean; tools: { name: string; path?: string; usable: boolean }[] }[] };
  const wizer = localDoctor.sections.flatMap((s) => s.tools).find((t) => t.name.startsWith('wizer'))!;
  expect(wizer).toMatchObject({ usable: true, path: path.join(app, 'node_modules', '.bin', 'wizer') });
}
