// `wfn doctor`'s moto_server lookup (the one the Lambda and S3 tests use too): PATH first, then
// pyenv's shims, else the pip command that installs it.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findMotoServer, MOTO_FIX, runDoctor } from '../../src/project/doctor.js';

function fakeMoto(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'moto_server');
  writeFileSync(file, '#!/bin/sh\nexit 0\n');
  chmodSync(file, 0o755);
  return file;
}

describe('finding moto_server', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'wfn-moto-'));
  const onPath = fakeMoto(path.join(root, 'bin'));
  const shim = fakeMoto(path.join(root, 'pyenv', 'shims'));

  it('on PATH first, then in $PYENV_ROOT/shims (or ~/.pyenv/shims), else nowhere', () => {
    expect(findMotoServer({ PATH: path.join(root, 'bin'), PYENV_ROOT: path.join(root, 'pyenv') })).toBe(onPath);
    expect(findMotoServer({ PATH: '/nonexistent', PYENV_ROOT: path.join(root, 'pyenv') })).toBe(shim);
    expect(findMotoServer({ PATH: '/nonexistent', HOME: path.join(root, 'home') })).toBeUndefined();
    fakeMoto(path.join(root, 'home', '.pyenv', 'shims'));
    expect(findMotoServer({ PATH: '/nonexistent', HOME: path.join(root, 'home') })).toBe(path.join(root, 'home', '.pyenv', 'shims', 'moto_server'));
    // Not executable is not found.
    const dead = path.join(root, 'dead');
    mkdirSync(dead);
    writeFileSync(path.join(dead, 'moto_server'), '');
    expect(findMotoServer({ PATH: dead, HOME: path.join(root, 'nohome') })).toBeUndefined();
  });

  it('doctor lists it as optional, with pip install \'moto[server]\' when missing', async () => {
    const saved = { PATH: process.env.PATH, PYENV_ROOT: process.env.PYENV_ROOT, HOME: process.env.HOME };
    try {
      Object.assign(process.env, { PYENV_ROOT: path.join(root, 'none'), HOME: path.join(root, 'none') });
      process.env.PATH = (saved.PATH ?? '').split(path.delimiter).filter((d) => !findMotoServer({ PATH: d, PYENV_ROOT: path.join(root, 'none') })).join(path.delimiter);
      const optional = (await runDoctor()).find((s) => s.name === 'optional')!;
      expect(optional.ok).toBe(true);
      expect(optional.tools[0]).toMatchObject({ found: false, usable: false, fix: MOTO_FIX });
      expect(MOTO_FIX).toBe("pip install 'moto[server]'");
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }, 120_000);
});
