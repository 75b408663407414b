import type { TargetAdapter } from '../src/target/types.js';
import { UserError } from '../src/util/errors.js';

export const TARGETS = ['self-hosted', 'cloudflare', 'lambda', 'fastly'] as const;
export type TargetName = (typeof TARGETS)[number];

// A static map (not a template import) so bundlers and vitest can see every adapter.
const ADAPTERS: Record<TargetName, () => Promise<{ adapter: TargetAdapter }>> = {
  'self-hosted': () => import('./self-hosted/index.js'),
  cloudflare: () => import('./cloudflare/index.js'),
  lambda: () => import('./lambda/index.js'),
  fastly: () => import('./fastly/index.js'),
};

/** Loads a target's adapter lazily (each pulls in heavy SDKs of its own). */
export async function loadAdapter(name: string): Promise<TargetAdapter> {
  if (!(TARGETS as readonly string[]).includes(name)) {
    throw new UserError(`Unknown target "${name}".`, `Targets: ${TARGETS.join(', ')}`);
  }
  return (await ADAPTERS[name as TargetName]()).adapter;
}
