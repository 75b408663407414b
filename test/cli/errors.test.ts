// Errors as a script sees them: --json gives one small {"error":{"message","hint"}} and the
// documented exit code (docs/cli.md); a busy port is said, not dumped, and the process exits.
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wfn } from '../helpers/cli.js';
import { wat2wasm } from '../helpers/wat.js';
import { writeFile } from 'node:fs/promises';
import { ECHO_WAT } from '../fixtures/contract.js';

function parseError(stdout: string): { message: string; hint?: string } {
  const parsed = JSON.parse(stdout);
  expect(Object.keys(parsed)).toEqual(['error']);
  expect(typeof parsed.error.message).toBe('string');
  return parsed.error;
}

describe('usage errors under --json', () => {
  const cases: [string, string[], RegExp][] = [
    ['a missing argument', ['new', '--json'], /Missing 1 required arg/],
    ['a missing flag', ['new', 'x', '--json'], /^Missing required flag lang/],
    ['an unknown flag', ['build', '--bogus', '--json'], /Nonexistent flag: --bogus/],
    ['a bad option value', ['build', '--optimize', 'O9', '--json'], /--optimize=O9 to be one of: O3, Oz, none/],
    ['a bad integer', ['run', '--timeout', 'soon', '--json'], /^--timeout: Expected an integer but received: soon$/],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: small valid JSON on stdout, exit 2`, async () => {
      const work = await mkdtemp(path.join(tmpdir(), 'wfn-cli-'));
      const result = await wfn(args, { cwd: work });
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout.length).toBeLessThan(1000);
      const error = parseError(result.stdout);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('See more help');
      expect(error.hint).toMatch(/^See: wfn help \w+/);
      expect(result.stderr).toBe('');
    });
  }

  it('without --json: the message on stderr, exit 2, no oclif internals', async () => {
    const result = await wfn(['build', '--optimize', 'O9']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Error: Expected --optimize=O9 to be one of');
    expect(result.stderr.length).toBeLessThan(1000);
  });

  it('a bad --lang value under --json: message and hint, exit 2', async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'wfn-cli-'));
    const result = await wfn(['new', 'x', '--lang', 'cobol', '--json'], { cwd: work });
    expect(result.code).toBe(2);
    expect(parseError(result.stdout)).toEqual({ message: 'Unknown language "cobol".', hint: 'Languages: assemblyscript, rust, go, js' });
  });
});

describe('a busy port', () => {
  let blocker: Server;
  let port: number;
  let wasm: string;
  beforeAll(async () => {
    blocker = createServer((_, res) => res.end('taken'));
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    port = (blocker.address() as AddressInfo).port;
    const work = await mkdtemp(path.join(tmpdir(), 'wfn-port-'));
    wasm = path.join(work, 'ok.wasm');
    await writeFile(wasm, await wat2wasm(ECHO_WAT));
  });
  afterAll(() => new Promise<void>((resolve) => blocker.close(() => resolve())));

  const commands: [string, () => string[]][] = [
    ['dev', () => ['dev', wasm, '--port', String(port)]],
    ['dev --target self-hosted', () => ['dev', wasm, '--target', 'self-hosted', '--port', String(port)]],
    ['dev --target cloudflare', () => ['dev', wasm, '--target', 'cloudflare', '--port', String(port)]],
    ['serve', () => ['serve', '--insecure-no-auth', '--data-dir', path.join(path.dirname(wasm), 'serve'), '--port', String(port)]],
  ];
  for (const [name, args] of commands) {
    for (const json of [false, true]) {
      it(`${name}${json ? ' --json' : ''} says "port N is in use; pass --port" and exits`, async () => {
        // The bound only catches a hang (it used to live on after 30 s); it exits in about a second.
        const result = await wfn([...args(), ...(json ? ['--json'] : [])], { timeoutMs: 20_000 });
        expect(result.code, result.stdout + result.stderr).toBe(1);
        if (json) expect(parseError(result.stdout).message).toBe(`port ${port} is in use; pass --port`);
        else {
          expect(result.stderr).toContain(`Error: port ${port} is in use; pass --port`);
          expect(result.stderr).not.toContain('EADDRINUSE');
        }
      });
    }
  }
});
