/**
 * The Spin target (and SpinKube, which runs Spin apps on Kubernetes): the function as a
 * wasi:http/proxy component with a spin.toml (manifest version 2) beside it. Emulated by the
 * component in `jco serve` (what Spin runs is that component; spin.toml only routes every path
 * to it). wfn does not push Spin apps: `spin deploy` or `spin registry push` do, from the
 * package folder. docs/targets/spin.md tells the whole story.
 */
import path from 'node:path';
import { startComponentEmulator } from '../../src/server/component/emulator.js';
import type { Bundle, DeployOptions, EmulateOptions, TargetAdapter } from '../../src/target/types.js';
import { UserError } from '../../src/util/errors.js';
import { MANIFEST_FILE, packageSpin } from './package.js';

function componentFile(bundle: Bundle): string {
  const file = bundle.files.find((f) => f.path.endsWith('.component.wasm'));
  if (!file) throw new Error(`${bundle.dir}: no component in the Spin package`);
  return path.join(bundle.dir, file.path);
}

export const adapter: TargetAdapter = {
  name: 'spin',
  package: (artifact) => packageSpin(artifact),
  async emulate(bundle: Bundle, options: EmulateOptions) {
    const emulator = await startComponentEmulator(componentFile(bundle), { ...options, timeoutMs: bundle.artifact.limits.timeoutMs });
    return { url: emulator.url, close: () => emulator.close() };
  },
  async deploy(bundle: Bundle, _options: DeployOptions) {
    const manifest = path.join(bundle.dir, MANIFEST_FILE);
    throw new UserError(
      `wfn does not push Spin apps itself: ${manifest} is ready.`,
      `Run \`spin deploy --from ${manifest}\` (Fermyon Cloud) or \`spin registry push --from ${manifest} <registry>/<name>:<tag>\` (for SpinKube), or use --dry-run (docs/targets/spin.md).`,
    );
  },
};
