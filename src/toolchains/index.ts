/** The toolchains by language, each loaded on first use (start-up stays light). */
import type { Language } from '../config/types.js';
import type { Toolchain } from './types.js';

/** Loads one language's toolchain lazily (start-up stays light). */
export async function getToolchain(language: Language): Promise<Toolchain> {
  switch (language) {
    case 'assemblyscript':
      return (await import('./assemblyscript.js')).toolchain;
    case 'rust':
      return (await import('./rust/index.js')).toolchain;
    case 'go':
      return (await import('./go.js')).toolchain;
    case 'js':
      return (await import('./javascript/index.js')).toolchain;
  }
}
