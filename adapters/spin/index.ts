/**
 * The Spin target (and SpinKube, which runs Spin apps on Kubernetes): the function as a
 * wasi:http/proxy component with a spin.toml (manifest version 2) beside it. Emulated by the
 * component in `jco serve` (what Spin runs is that component; spin.toml only routes every path
 * to it). `--registry REF` pushes it as `spin registry push` would (oci.ts), for SpinKube;
 * Fermyon Cloud is `spin deploy`'s. docs/targets/spin.md tells the whole story.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { startComponentEmulator } from '../../src/server/component/emulator.js';
import type { Bundle, DeployOptions, EmulateOptions, TargetAdapter } from '../../src/target/types.js';
import { UserError } from '../../src/util/errors.js';
import { spinId, spinVariable } from './manifest.js';
import { parseRegistryRef, pushSpinArtifact, spinArtifact } from './oci.js';
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
  async deploy(bundle: Bundle, options: DeployOptions) {
    const manifest = path.join(bundle.dir, MANIFEST_FILE);
    const registry = options.flags.registry;
    if (typeof registry !== 'string' || registry === '') {
      throw new UserError(
        `Pass --registry to push ${manifest} to an OCI registry (for SpinKube).`,
        `Or run \`spin deploy --from ${manifest}\` (Fermyon Cloud), or use --dry-run (docs/targets/spin.md).`,
      );
    }
    const ref = parseRegistryRef(registry);
    const id = spinId(bundle.artifact.name);
    const artifact = spinArtifact(
      {
        id,
        component: new Uint8Array(await readFile(componentFile(bundle))),
        allowedOutboundHosts: bundle.artifact.outbound.allow,
        secrets: bundle.artifact.secrets,
        description: `${bundle.artifact.name}: a wfn function`,
      },
      spinVariable,
    );
    const digest = await pushSpinArtifact(ref, artifact, { token: options.env.WFN_REGISTRY_TOKEN, log: options.log });
    return { target: 'spin', name: id, version: digest, details: { image: `${new URL(ref.base).host}/${ref.name}:${ref.tag}`, digest } };
  },
};
