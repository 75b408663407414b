/**
 * The component target: the function packaged as a WASI 0.2 wasi:http/proxy component
 * (the same artifact, linked with a small bridge), for the engines that run those: wasmtime
 * serve, Spin and SpinKube, wasmCloud, NGINX Unit, jco. Emulated in `jco serve`; there is
 * nothing to upload (the engines take the file), so deploy says where it is.
 * docs/targets/component.md tells the whole story.
 */
import path from 'node:path';
import type { Bundle, DeployOptions, EmulateOptions, TargetAdapter } from '../../src/target/types.js';
import { UserError } from '../../src/util/errors.js';
import { startComponentEmulator } from './emulator.js';
import { packageComponent } from './package.js';

/** The .component.wasm inside a bundle. */
export function componentPath(bundle: Bundle): string {
  return path.join(bundle.dir, bundle.files[0].path);
}

export const adapter: TargetAdapter = {
  name: 'component',
  package: (artifact) => packageComponent(artifact),
  async emulate(bundle: Bundle, options: EmulateOptions) {
    const emulator = await startComponentEmulator(componentPath(bundle), { ...options, timeoutMs: bundle.artifact.limits.timeoutMs });
    return { url: emulator.url, close: () => emulator.close() };
  },
  async deploy(bundle: Bundle, _options: DeployOptions) {
    throw new UserError(
      `A component is not uploaded anywhere by wfn: ${componentPath(bundle)} is ready for any wasi:http/proxy engine.`,
      'Use --dry-run to write it, then e.g. `wasmtime serve` it, or deploy to Spin with --target spin (docs/targets/component.md).',
    );
  },
};
