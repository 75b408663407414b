/**
 * The target registry: one line per target, the one list of target names. The CLI
 * (src/commands) is its only reader; services get the TargetAdapter they need passed in.
 * Adding a target is adding a folder under adapters/ plus one line here.
 */
import type { TargetAdapter } from '../src/target/types.js';
import { UserError } from '../src/util/errors.js';

// A static map (not a template import) so bundlers and vitest can see every adapter; each
// loads lazily (they pull in heavy SDKs of their own).
const ADAPTERS = {
  'self-hosted': () => import('./self-hosted/index.js'),
  cloudflare: () => import('./cloudflare/index.js'),
  lambda: () => import('./lambda/index.js'),
  fastly: () => import('./fastly/index.js'),
  component: () => import('./component/index.js'),
} satisfies Record<string, () => Promise<{ adapter: TargetAdapter }>>;

export type TargetName = keyof typeof ADAPTERS;
export const TARGETS = Object.keys(ADAPTERS) as TargetName[];

export async function loadAdapter(name: string): Promise<TargetAdapter> {
  if (!Object.hasOwn(ADAPTERS, name)) {
    throw new UserError(`Unknown target "${name}".`, `Targets: ${TARGETS.join(', ')}`);
  }
  return (await ADAPTERS[name as TargetName]()).adapter;
}
