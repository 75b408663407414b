/**
 * Language tests need their toolchain. Locally a missing one skips the tests with the fix;
 * with CI=true it fails them (CI must never pass by skipping).
 */
import { it } from 'vitest';
import type { Language } from '../../src/config/types.js';
import { getToolchain } from '../../src/toolchains/index.js';

export async function toolchainMissing(language: Language): Promise<string | undefined> {
  const tools = await (await getToolchain(language)).detect();
  if (tools.some((t) => t.usable)) return undefined;
  return `${language} toolchain missing: ${tools.map((t) => t.fix).filter(Boolean).join(' | ')}`;
}

/** `it` that fails in CI and skips elsewhere when the language's toolchain is missing. */
export async function itWithToolchain(language: Language) {
  const missing = await toolchainMissing(language);
  if (!missing) return it;
  if (process.env.CI === 'true') {
    return ((name: string) => it(name, () => { throw new Error(`${missing} (CI=true: a missing toolchain fails the run)`); })) as unknown as typeof it;
  }
  console.warn(`skipping ${language} tests: ${missing}`);
  return it.skip;
}
