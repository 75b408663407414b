/**
 * The one child-process runner (src/util/exec.ts): output captured, stdin fed, a non-zero
 * exit or a program that cannot start reported in the result (execCapture) or as an Error
 * naming the tool (execChecked), and the PATH lookup.
 */
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { execCapture, execChecked, findAllOnPath, versionOf } from '../../src/util/exec.js';

const node = process.execPath;

describe('running a program', () => {
  it('captures stdout and stderr, feeds stdin, and reports the exit code without throwing', async () => {
    const r = await execCapture(node, ['-e', 'process.stdin.pipe(process.stdout); process.stderr.write("warn"); process.stdin.on("end", () => process.exit(3))'], { input: new TextEncoder().encode('héllo') });
    expect(r).toEqual({ code: 3, stdout: 'héllo', stderr: 'warn', startError: undefined });
  });

  it('runs without a shell: arguments are passed as they are', async () => {
    const r = await execCapture(node, ['-e', 'console.log(JSON.stringify(process.argv.slice(1)))', '$HOME', 'a b', '; rm -rf /']);
    expect(JSON.parse(r.stdout)).toEqual(['$HOME', 'a b', '; rm -rf /']);
  });

  it('a program that cannot start is a result with startError, not a rejection', async () => {
    const r = await execCapture('/nonexistent/wfn-no-such-tool', []);
    expect(r.code).toBeNull();
    expect(r.startError).toMatch(/ENOENT/);
    expect(await versionOf('/nonexistent/wfn-no-such-tool')).toBeUndefined();
  });

  it('execChecked throws an Error naming the tool with the first lines of its output', async () => {
    await expect(execChecked(node, ['-e', 'console.error("line 1\\nline 2"); process.exit(1)'], { label: 'wasm-merge' })).rejects.toThrow(/^wasm-merge failed: line 1\nline 2$/);
    await expect(execChecked('/nonexistent/wfn-no-such-tool', [], { label: 'wasm-opt' })).rejects.toThrow(/^wasm-opt failed: .*ENOENT/);
    expect((await execChecked(node, ['-e', 'console.log("ok")'])).stdout).toBe('ok\n');
  });

  it('kills a program that overruns timeoutMs', async () => {
    const r = await execCapture(node, ['-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 200 });
    expect(r.code).toBeNull(); // killed by a signal
  });

  it('versionOf answers the first line of --version', async () => {
    expect(await versionOf(node)).toBe(process.version);
  });
});

describe('finding programs on PATH', () => {
  it('lists every executable of that name in PATH order, once per real file, skipping non-executables', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'wfn-path-'));
    const [a, b, c] = ['a', 'b', 'c'].map((d) => {
      const dir = path.join(root, d);
      mkdirSync(dir);
      return dir;
    });
    writeFileSync(path.join(a, 'tool'), '#!/bin/sh\n');
    chmodSync(path.join(a, 'tool'), 0o755);
    symlinkSync(path.join(a, 'tool'), path.join(b, 'tool')); // the same real file
    writeFileSync(path.join(c, 'tool'), 'not executable');
    expect(findAllOnPath('tool', [c, a, b, '', path.join(root, 'missing')].join(path.delimiter))).toEqual([path.join(a, 'tool')]);
  });
});
