import type { TargetAdapter } from './types.js';
import { UserError } from '../src/util/errors.js';

export const TARGETS = ['self-hosted', 'cloudflare', 'lambda', 'fastly'] as const;
export type TargetName = (typeof TARGETS)[number];

/** Loads a target's adapter lazily (each pulls in heavy SDKs of its own). */
export async function loadAdapter(name: string): Promise<TargetAdapter> {
  if (!(TARGETS as readonly string[]).includes(name)) {
    throw new UserError(`Unknown target "${name}".`, `Targets: ${TARGETS.join(', ')}`);
  }
  const mod = (await import(`./${name}/index.js`)) as { adapter: TargetAdapter };
  return mod.adapter;
}
