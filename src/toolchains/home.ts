/** Where compilers that cache under $HOME (go, cargo) may keep their caches when $HOME cannot hold them. */
import { accessSync, constants, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function isWritableDir(dir: string | undefined): boolean {
  if (!dir) return false;
  try {
    accessSync(dir, constants.W_OK);
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** True when tools that keep caches under $HOME (go, cargo) can use it. */
export function homeIsUsable(env: NodeJS.ProcessEnv = process.env): boolean {
  return isWritableDir(env.HOME);
}

/** A per-user scratch folder for compiler caches when $HOME cannot hold them. */
export function fallbackCacheDir(tool: string): string {
  let user = 'user';
  try {
    user = os.userInfo().username || String(process.getuid?.() ?? 'user');
  } catch {
    /* no passwd entry (containers): keep the default */
  }
  return path.join(os.tmpdir(), `wfn-${user}`, tool);
}
