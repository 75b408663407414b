// The operating commands' own logic: --since, the one log-line format, the function's name
// from wfn.toml, targets wfn does not operate, and refusals before anything is sent.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapter as component } from '../../adapters/component/index.js';
import { operationsOf, parseSince, removeDeployed, resolveDeployedName } from '../../src/project/operate.js';
import { asLogLine, formatLogLine } from '../../src/target/log-line.js';
import type { TargetAdapter } from '../../src/target/types.js';
import { UserError } from '../../src/util/errors.js';
import { BIN, wfn } from '../helpers/cli.js';

describe('--since', () => {
  const now = Date.UTC(2026, 11, 2, 12, 0, 0);
  it('takes durations back from now and ISO dates', () => {
    expect(parseSince('30s', now).toISOString()).toBe('2026-12-02T11:59:30.000Z');
    expect(parseSince('10m', now).toISOString()).toBe('2026-12-02T11:50:00.000Z');
    expect(parseSince('2h', now).toISOString()).toBe('2026-12-02T10:00:00.000Z');
    expect(parseSince('1d', now).toISOString()).toBe('2026-12-01T12:00:00.000Z');
    expect(parseSince('2026-12-02T11:00:00Z', now).toISOString()).toBe('2026-12-02T11:00:00.000Z');
    expect(parseSince('2026-12-01', now).toISOString()).toBe('2026-12-01T00:00:00.000Z');
  });
  it('refuses anything else with a clear error', () => {
    for (const bad of ['10', '10 minutes', '-5m', 'yesterday', '2026-13-45', '']) {
      expect(() => parseSince(bad, now), bad).toThrow(UserError);
      expect(() => parseSince(bad, now), bad).toThrow(/neither a duration nor a date/);
    }
    expect(() => parseSince('2027-01-01', now)).toThrow(/in the future/);
  });
});

describe('the log line format', () => {
  it('is one line per request or stderr line, the same on every target', () => {
    expect(formatLogLine({ kind: 'request', time: '2026-12-02T12:00:00.000Z', method: 'GET', path: '/a?b=1', status: 200, durationMs: 12.345, outcome: 'ok' })).toBe('2026-12-02T12:00:00.000Z GET /a?b=1 200 12.3ms ok');
    expect(formatLogLine({ kind: 'request', time: '2026-12-02T12:00:00.000Z', method: 'POST', path: '/', status: 504, durationMs: 10_000, outcome: 'timeout' })).toBe('2026-12-02T12:00:00.000Z POST / 504 10.00s timeout');
    expect(formatLogLine({ kind: 'stderr', time: '2026-12-02T12:00:00.000Z', text: 'hello' })).toBe('2026-12-02T12:00:00.000Z stderr: hello');
  });
  it('checks lines read from a provider before printing them', () => {
    expect(asLogLine({ kind: 'stderr', time: 'not a time', text: 'x' })).toBeUndefined();
    expect(asLogLine({ kind: 'request', time: '2026-12-02T12:00:00Z', method: 'GET' })).toBeUndefined();
    expect(asLogLine({ kind: 'stderr', time: '2026-12-02T12:00:00Z', text: '\u001b]0;title\u0007x' })).toEqual({ kind: 'stderr', time: '2026-12-02T12:00:00Z', text: '\uFFFD]0;title\uFFFDx' });
    expect(asLogLine({ kind: 'request', time: '2026-12-02T12:00:00Z', method: 'GET', path: '/', status: 200, durationMs: 1, outcome: 'weird' })).toMatchObject({ outcome: 'error' });
  });
});

describe('which function', () => {
  it('is --name, else the name in wfn.toml (found from a subfolder), as deploy names it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'wfn-operate-name-'));
    await writeFile(path.join(dir, 'wfn.toml'), 'name = "from-toml"\nlanguage = "assemblyscript"\n');
    await mkdir(path.join(dir, 'src'));
    expect(await resolveDeployedName(undefined, path.join(dir, 'src'))).toBe('from-toml');
    expect(await resolveDeployedName('given', dir)).toBe('given');
    await expect(resolveDeployedName('Bad_Name', dir)).rejects.toThrow(/--name/);
    await expect(resolveDeployedName(undefined, tmpdir())).rejects.toThrow(/Which function\? No wfn.toml/);
  });
});

describe('targets wfn does not operate', () => {
  it('component and spin say where to operate them instead', async () => {
    expect(() => operationsOf(component, 'logs')).toThrow(/wfn logs does not operate the component target/);
    const r = await wfn(['ls', '--target', 'spin']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('wfn ls does not operate the spin target.');
    expect(r.stderr).toMatch(/spin cloud apps list.*kubectl/);
    const json = await wfn(['logs', '--target', 'component', '--name', 'x', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).error).toMatchObject({ message: 'wfn logs does not operate the component target.', hint: expect.stringContaining('wasmtime serve') });
  });
});

describe('refusals before anything is sent', () => {
  it('rm without --yes and without a terminal deletes nothing; a "no" at the terminal neither', async () => {
    let removed = 0;
    const fake: TargetAdapter = {
      ...component,
      name: 'fake',
      operations: {
        describe: (name) => `function ${name} on fake`,
        list: async () => [],
        versions: async () => [],
        rollback: async () => ({ from: '2', to: '1' }),
        remove: async () => {
          removed++;
          return { removed: true };
        },
        logs: async () => {},
      },
    };
    const said: string[] = [];
    const base = { env: {}, flags: {}, log: (m: string) => said.push(m) };
    await expect(removeDeployed(fake, 'f', { ...base, yes: false })).rejects.toThrow(/Not going ahead without --yes: This deletes function f on fake/);
    expect(await removeDeployed(fake, 'f', { ...base, yes: false, confirm: async () => false })).toEqual({ where: 'function f on fake', removed: false, cancelled: true });
    expect(removed).toBe(0);
    expect(await removeDeployed(fake, 'f', { ...base, yes: false, confirm: async (q) => q === 'This deletes function f on fake, with all its versions. Go ahead?' })).toMatchObject({ removed: true });
    expect(removed).toBe(1);
    expect(said).toEqual([]); // the question said it
    expect(await removeDeployed(fake, 'f', { ...base, yes: true })).toMatchObject({ removed: true });
    expect(said).toEqual(['This deletes function f on fake, with all its versions.']);
  });

  // script(1) (util-linux, on every Debian) gives the prompt a pseudo-terminal; under CI its absence fails.
  it.skipIf(!existsSync('/usr/bin/script') && process.env.CI !== 'true')('rm on a terminal asks; "n" deletes nothing, "y" goes ahead', async () => {
    // script(1) gives the CLI a pseudo-terminal; what it reads comes from our stdin.
    const onTty = (answer: string) =>
      new Promise<{ code: number | null; out: string }>((resolve, reject) => {
        const child = spawn('script', ['-qec', `${process.execPath} ${BIN} rm --target self-hosted --url http://127.0.0.1:9 --name f`, '/dev/null'], { env: { ...process.env, NO_COLOR: '1' } });
        let out = '';
        child.stdout.on('data', (c) => {
          out += c;
          if (out.includes('Go ahead? [y/N]')) child.stdin.end(`${answer}\n`);
        });
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, out }));
      });
    const no = await onTty('n');
    expect(no.out).toContain('This deletes function f on wfn serve at http://127.0.0.1:9, with all its versions. Go ahead? [y/N]');
    expect(no.out).toContain('Nothing deleted.');
    expect(no.code).toBe(0);
    // "y": it goes ahead, and finds no server there (nothing listens on port 9).
    const yes = await onTty('y');
    expect(yes.out).toContain('Cannot reach wfn serve at http://127.0.0.1:9');
    expect(yes.code).toBe(1);
  });

  it('bad --since and a missing --target are usage errors before any call', async () => {
    const since = await wfn(['logs', '--target', 'self-hosted', '--url', 'http://127.0.0.1:9', '--name', 'f', '--since', 'soon']);
    expect(since.code).toBe(1);
    expect(since.stderr).toContain('--since "soon" is neither a duration nor a date.');
    const target = await wfn(['ls'], { env: { WFN_TARGET: '' } });
    expect(target.code).toBe(2);
    expect(target.stderr).toMatch(/Missing required flag.*target/s);
    const noUrl = await wfn(['ls', '--target', 'self-hosted'], { env: { WFN_URL: '' } });
    expect(noUrl.code).toBe(1);
    expect(noUrl.stderr).toContain('--target self-hosted needs the server URL.');
  });
});
