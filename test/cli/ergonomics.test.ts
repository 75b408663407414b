// The small things a newcomer meets in the first hour: `wfn help <command>`, "did you mean"
// for a mistyped command, wfn.toml found from a subfolder, `-t` meaning one thing, a clear
// word for `wfn build x.wasm`, doctor's marks.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { wfn } from '../helpers/cli.js';

describe('help', () => {
  it('wfn help <command> shows that command\'s flags; --json gives them as data', async () => {
    const text = await wfn(['help', 'deploy']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/USAGE\n {2}\$ wfn deploy \[SOURCE\] -t\s/);
    expect(text.stdout).toContain('-t, --target=<option>');
    const json = await wfn(['help', 'dev', '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.command).toBe('dev');
    expect(parsed.args).toEqual([{ name: 'source', description: expect.stringContaining('a .wasm file or a project folder'), required: false }]);
    expect(parsed.flags.find((f: { name: string }) => f.name === 'target')).toMatchObject({ char: 't' });
  });

  it('wfn help lists every command', async () => {
    const json = await wfn(['help', '--json']);
    const ids = JSON.parse(json.stdout).commands.map((c: { command: string }) => c.command);
    expect(ids).toEqual(['bench', 'build', 'deploy', 'dev', 'doctor', 'help', 'inspect', 'logs', 'ls', 'new', 'rm', 'rollback', 'run', 'serve', 'versions']);
  });

  it('wfn help <typo> and wfn <typo>: did you mean, exit 2, JSON under --json', async () => {
    const typo = await wfn(['biuld']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('Error: "biuld" is not a wfn command. Did you mean "build"?');
    expect(typo.stderr).toContain('Commands: bench, build, deploy');
    const json = await wfn(['deplyo', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error.message).toBe('"deplyo" is not a wfn command. Did you mean "deploy"?');
    const help = await wfn(['help', 'servee']);
    expect(help.code).toBe(2);
    expect(help.stderr).toContain('Did you mean "serve"?');
    const far = await wfn(['frobnicate']);
    expect(far.stderr).toContain('"frobnicate" is not a wfn command.\n');
  });
});

describe('flags and arguments that mean one thing', () => {
  it('-t is --target (deploy, dev); new has no -t; the positional of run/dev is SOURCE', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'wfn-flags-'));
    const r = await wfn(['new', 'x', '--lang', 'as', '-t', 'fib', '--json'], { cwd: work });
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toContain('Nonexistent flag: -t');
    for (const command of ['run', 'dev', 'bench']) {
      const help = JSON.parse((await wfn(['help', command, '--json'])).stdout);
      expect(help.args.map((a: { name: string }) => a.name)).toEqual(['source']);
    }
  });
});

describe('finding the project', () => {
  it('wfn.toml is found from a subfolder, as cargo finds Cargo.toml', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'wfn-find-'));
    // A wfn.toml with a mistake: the error names it, which shows it was the one found.
    await writeFile(path.join(work, 'wfn.toml'), 'name = "found"\nlanguage = "assemblyscript"\n[build]\noptimise = "O3"\n');
    const deep = path.join(work, 'assembly', 'lib');
    await mkdir(deep, { recursive: true });
    for (const command of [['build'], ['run'], ['deploy', '--target', 'cloudflare', '--dry-run']]) {
      const r = await wfn(command, { cwd: deep });
      expect(r.code, command.join(' ')).toBe(1);
      expect(r.stderr).toContain('Error: ../../wfn.toml:4: unknown key "optimise" in [build]. Did you mean "optimize"?');
    }
  });

  it('outside any project: says so, once, without a stack trace', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'wfn-nowhere-'));
    const r = await wfn(['build'], { cwd: work });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: No wfn.toml in this folder or any folder above it.\nCreate a project with `wfn new <name> --lang assemblyscript`, or cd into one.\n');
  });

  it('wfn build x.wasm: a module is not built, it is run, served, inspected or deployed', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'wfn-build-wasm-'));
    await writeFile(path.join(work, 'x.wasm'), new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
    const r = await wfn(['build', 'x.wasm', '--json'], { cwd: work });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).error).toEqual({
      message: 'x.wasm is already a WebAssembly module: wfn build builds a project folder (one with wfn.toml) into one.',
      hint: 'To use the module as it is: wfn run x.wasm, wfn dev x.wasm, wfn inspect x.wasm, or wfn deploy x.wasm --target <platform>.',
    });
  });
});

describe('doctor', () => {
  it('never shows ✓ above a broken line', async () => {
    const r = await wfn(['doctor']);
    const lines = r.stdout.split('\n');
    let mark = '';
    for (const line of lines) {
      if (/^\S/.test(line)) mark = line[0];
      else if (/^\s+broken /.test(line)) expect(mark, line).not.toBe('✓');
    }
    const json = JSON.parse((await wfn(['doctor', '--json'])).stdout);
    for (const section of json.sections) {
      const broken = section.tools.some((t: { found: boolean; usable: boolean }) => t.found && !t.usable);
      const header = lines.find((l) => l.slice(2).startsWith(section.name))!;
      expect(header[0], section.name).toBe(!section.ok ? '✗' : broken ? '!' : '✓');
    }
  });
});
