// `wfn deploy --name` is checked with the function-name rule before any file is touched, for
// every target: a name like "../x" once made packaging delete and write outside its staging folder.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadAdapter, TARGETS } from '../../adapters/index.js';
import { deploy } from '../../src/project/deploy.js';
import { UserError } from '../../src/util/errors.js';
import { wfn } from '../helpers/cli.js';
import { textFunction } from '../server/serve/helpers.js';

const INVALID = ['../victim', '..', '../..', 'a/b', '/abs', 'Upper', '-x', 'x_y', 'a.b', '', 'x'.repeat(64)];

let wasm: string;
beforeAll(async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'wfn-deploy-name-'));
  wasm = path.join(dir, 'hello.wasm');
  await writeFile(wasm, await textFunction('hi'));
});

/** A fresh TMPDIR with canary files at every place a target would stage `name` if it were not checked. */
async function canaries(name: string): Promise<{ tmp: string; files: string[] }> {
  const tmp = await mkdtemp(path.join(tmpdir(), 'wfn-canary-'));
  const files: string[] = [];
  for (const target of TARGETS) {
    const staged = path.join(tmp, 'wfn-targets', name, target);
    const dir = staged.startsWith(path.join(tmp, 'wfn-targets') + path.sep) ? path.join(tmp, 'victim', target) : staged;
    await mkdir(dir, { recursive: true });
    files.push(path.join(dir, 'keep.txt'));
  }
  files.push(path.join(tmp, 'victim.zip'), path.join(tmp, 'victim.wasm'), path.join(tmp, 'keep.txt'));
  for (const file of files) await writeFile(file, 'the user\'s file');
  return { tmp, files };
}

async function expectUntouched(tmp: string, files: string[]): Promise<void> {
  for (const file of files) expect(await readFile(file, 'utf8')).toBe('the user\'s file');
  // Nothing was staged at all: the name was refused first.
  expect(existsSync(path.join(tmp, 'wfn-targets')) ? await readdir(path.join(tmp, 'wfn-targets'), { recursive: true }) : []).toEqual([]);
}

describe('wfn deploy --name', () => {
  const savedTmp = process.env.TMPDIR;
  afterEach(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  });

  for (const target of TARGETS) {
    it(`--target ${target}: "../victim" is refused by the CLI before any file operation`, async () => {
      const { tmp, files } = await canaries('../victim');
      const got = await wfn(['deploy', wasm, '--target', target, '--name', '../victim', '--dry-run'], { env: { TMPDIR: tmp } });
      expect(got.code).toBe(1);
      expect(got.stderr).toMatch(/invalid function name "\.\.\/victim"/);
      expect(got.stderr).not.toMatch(/\n\s+at /); // a user error, no stack trace
      await expectUntouched(tmp, files);
    });

    it(`--target ${target}: every other invalid name is refused too`, async () => {
      for (const name of INVALID) {
        const { tmp, files } = await canaries(name);
        process.env.TMPDIR = tmp;
        const attempt = loadAdapter(target).then((adapter) => deploy(adapter, { source: wasm, name, dryRun: true, env: [], flags: {}, log: () => {} }));
        await expect(attempt, name).rejects.toBeInstanceOf(UserError);
        await expect(attempt, name).rejects.toThrow(`invalid function name ${JSON.stringify(name)}`);
        await expectUntouched(tmp, files);
      }
    });
  }
});
