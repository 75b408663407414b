/** `wfn doctor`: every toolchain and tool wfn uses, found or not, with the exact fix. */
import { LANGUAGES } from '../config/types.js';
import { getToolchain } from '../toolchains/index.js';
import type { ToolStatus } from '../toolchains/types.js';
import os from 'node:os';
import path from 'node:path';
import { findAllOnPath, isExecutable, versionOf } from '../util/exec.js';
import { npmBin } from '../util/paths.js';

/** How a user gets moto_server (Python; neither Debian nor npm carries it). */
export const MOTO_FIX = "pip install 'moto[server]'";

/**
 * moto_server (a local AWS: Lambda, IAM, S3), used to rehearse `wfn deploy --target lambda`
 * and the S3 store without an account, and by wfn's own tests: on PATH, else in pyenv's shims
 * (pip under pyenv installs there, and non-interactive shells often lack them on PATH).
 */
export function findMotoServer(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const onPath = findAllOnPath('moto_server', env.PATH ?? '')[0];
  if (onPath) return onPath;
  const shims = path.join(env.PYENV_ROOT || path.join(env.HOME || os.homedir(), '.pyenv'), 'shims', 'moto_server');
  return isExecutable(shims) ? shims : undefined;
}

export interface DoctorSection {
  /** "assemblyscript", "rust", ..., or "tools" for the pipeline and targets. */
  name: string;
  tools: ToolStatus[];
  /** At least one way to build this language works. */
  ok: boolean;
}

async function npmTool(name: string, bin: string, args: string[], fix: string): Promise<ToolStatus> {
  const version = await versionOf(npmBin(bin), args);
  return { name, found: !!version, usable: !!version, version, path: npmBin(bin), fix: version ? undefined : fix };
}

export async function runDoctor(): Promise<DoctorSection[]> {
  const sections: DoctorSection[] = [];
  for (const language of LANGUAGES) {
    let tools: ToolStatus[];
    try {
      tools = await (await getToolchain(language)).detect();
    } catch (error) {
      tools = [{ name: language, found: false, usable: false, detail: (error as Error).message, fix: 'reinstall wfn' }];
    }
    sections.push({ name: language, tools, ok: tools.some((t) => t.usable) });
  }
  const { findWasmOpt } = await import('../toolchains/binaryen.js');
  const opts = await findWasmOpt();
  const reinstall = 'npm install (inside the wfn package) — it ships in an npm dependency';
  const tools: ToolStatus[] = [
    opts.length > 0
      ? { name: 'wasm-opt', found: true, usable: true, version: opts[0].versionLine, path: opts[0].path, detail: opts[0].native ? 'native (fast)' : 'npm binaryen (apt-get install binaryen for a faster native one)' }
      : { name: 'wasm-opt', found: false, usable: false, fix: 'apt-get install binaryen, or reinstall wfn (npm binaryen)' },
    await npmTool('wizer (snapshots)', 'wizer', ['--help'], reinstall),
    await npmTool('workerd (cloudflare emulator)', 'workerd', ['--version'], reinstall),
    // Only for checking a package by hand (`fastly compute validate`): a dev dependency, not installed with wfn.
    { ...(await npmTool('fastly CLI (optional, validates a Fastly package by hand)', 'fastly', ['version'], 'npm install -g @fastly/cli')), optional: true },
  ];
  // wizer --help prints usage, not a version: report the pinned package version instead.
  sections.push({ name: 'tools', tools, ok: tools.every((t) => t.usable || t.optional) });
  // Optional: nothing wfn builds or runs needs it, so it never makes the report fail.
  const moto = findMotoServer();
  sections.push({
    name: 'optional',
    tools: [{ name: 'moto_server (local AWS: rehearse lambda deploys, the S3 store)', found: !!moto, usable: !!moto, path: moto, fix: moto ? undefined : MOTO_FIX }],
    ok: true,
  });
  return sections;
}
