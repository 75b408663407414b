/** What a command was pointed at: a .wasm file, or a project folder (one with wfn.toml). */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';

export type FunctionSource = { kind: 'wasm'; path: string } | { kind: 'project'; dir: string };

/** A command's optional <wasm | project dir> argument. */
export function resolveFunctionSource(arg: string | undefined): FunctionSource {
  const target = path.resolve(arg ?? '.');
  if (!existsSync(target)) throw new UserError(`${arg} does not exist.`, 'Pass a .wasm file or a project folder (one with wfn.toml).');
  if (statSync(target).isFile()) return { kind: 'wasm', path: target };
  if (!existsSync(path.join(target, 'wfn.toml'))) {
    throw new UserError(`${arg ?? 'This folder'} has no wfn.toml.`, 'Run it inside a project (wfn new <name> --lang ...) or pass a .wasm file.');
  }
  return { kind: 'project', dir: target };
}
