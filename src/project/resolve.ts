/**
 * What a command was pointed at: a .wasm file, or a project folder (one with wfn.toml). With
 * no argument, the project is found from the current folder upwards, as cargo and npm find
 * Cargo.toml and package.json: `wfn build` works from src/.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../util/errors.js';

export type FunctionSource = { kind: 'wasm'; path: string } | { kind: 'project'; dir: string };

const CONFIG_FILE = 'wfn.toml';

/** The nearest folder from `start` upwards that holds wfn.toml, if any. */
export function findProjectDir(start: string): string | undefined {
  for (let dir = path.resolve(start); ; ) {
    if (existsSync(path.join(dir, CONFIG_FILE))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const NO_PROJECT_HINT = 'Run it inside a project (wfn new <name> --lang ...) or pass a .wasm file.';

/** A command's optional <wasm | project dir> argument. */
export function resolveFunctionSource(arg: string | undefined): FunctionSource {
  if (arg === undefined) {
    const dir = findProjectDir(process.cwd());
    if (!dir) throw new UserError(`No ${CONFIG_FILE} in this folder or any folder above it.`, NO_PROJECT_HINT);
    return { kind: 'project', dir };
  }
  const target = path.resolve(arg);
  if (!existsSync(target)) throw new UserError(`${arg} does not exist.`, 'Pass a .wasm file or a project folder (one with wfn.toml).');
  if (statSync(target).isFile()) return { kind: 'wasm', path: target };
  if (!existsSync(path.join(target, CONFIG_FILE))) throw new UserError(`${arg} has no ${CONFIG_FILE}.`, NO_PROJECT_HINT);
  return { kind: 'project', dir: target };
}

/**
 * `wfn build`'s folder: the given one, else the project around the current folder. A file
 * (a .wasm, a source file) is not something to build: say what to do with it instead.
 */
export function resolveProjectDir(arg: string | undefined): string {
  if (arg === undefined) {
    const dir = findProjectDir(process.cwd());
    if (!dir) throw new UserError(`No ${CONFIG_FILE} in this folder or any folder above it.`, 'Create a project with `wfn new <name> --lang assemblyscript`, or cd into one.');
    return dir;
  }
  const target = path.resolve(arg);
  if (existsSync(target) && statSync(target).isFile()) {
    if (target.endsWith('.wasm')) {
      throw new UserError(
        `${arg} is already a WebAssembly module: wfn build builds a project folder (one with ${CONFIG_FILE}) into one.`,
        `To use the module as it is: wfn run ${arg}, wfn dev ${arg}, wfn inspect ${arg}, or wfn deploy ${arg} --target <platform>.`,
      );
    }
    const project = findProjectDir(path.dirname(target));
    throw new UserError(`${arg} is a file: wfn build builds a project folder (one with ${CONFIG_FILE}).`, project ? `Its project is ${path.relative(process.cwd(), project) || '.'}: run wfn build there (or just wfn build inside it).` : NO_PROJECT_HINT);
  }
  if (!existsSync(target)) throw new UserError(`${arg} does not exist.`, 'Pass a project folder (one with wfn.toml), or run wfn build inside one.');
  return target;
}
