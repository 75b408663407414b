import { Args, Flags } from '@oclif/core';
import { loadAdapter, TARGETS } from '../../adapters/index.js';
import path from 'node:path';
import { WfnCommand } from '../cli/base.js';
import { deployOnlyFlags, locationFlags, targetFlagValues } from '../cli/flags.js';
import { deploy } from '../project/deploy.js';
import { formatBytes } from '../util/bytes.js';

export default class Deploy extends WfnCommand {
  static summary = 'Package the function for a target and deploy it (or, with --dry-run, only package it).';
  static examples = [
    'wfn deploy --target self-hosted --url http://127.0.0.1:8080',
    'wfn deploy --target cloudflare --dry-run --json',
    'wfn deploy dist/hello.wasm --target lambda --name hello',
    'wfn deploy --target fastly --service-id SU1Z0isxPaozGVKXdv0eY',
  ];
  static args = { source: Args.string({ description: 'What to deploy: a .wasm file or a project folder (default: the project of the current folder).' }) };
  static flags = {
    target: Flags.string({ char: 't', required: true, options: TARGETS, description: 'The platform to deploy to.' }),
    name: Flags.string({ description: 'Function name on the target (default: wfn.toml name).' }),
    'dry-run': Flags.boolean({ description: 'Write the package under .wfn/targets/<target>/ and stop.' }),
    env: Flags.string({ description: 'Variable KEY=VALUE for the function (repeatable).', multiple: true, default: [] }),
    timeout: Flags.integer({ description: 'Timeout per request, ms.', min: 1 }),
    memory: Flags.integer({ description: 'Memory, MiB.', min: 1 }),
    ...locationFlags,
    ...deployOnlyFlags,
  };

  async run() {
    const { args, flags } = await this.parse(Deploy);
    const outcome = await deploy(await loadAdapter(flags.target), {
      source: args.source,
      name: flags.name,
      dryRun: flags['dry-run'],
      memoryMiB: flags.memory,
      timeoutMs: flags.timeout,
      env: flags.env,
      flags: targetFlagValues(flags),
      log: (m) => this.progress(m),
    });
    const { bundle, result } = outcome;
    const rel = path.relative(process.cwd(), bundle.dir) || '.';
    this.log(`Package for ${bundle.target}: ${rel} (${formatBytes(bundle.size)}${bundle.compressedSize ? `, ${formatBytes(bundle.compressedSize)} compressed` : ''})`);
    for (const f of bundle.files) this.log(`  ${f.path}  ${formatBytes(f.size)}`);
    if (bundle.archive) this.log(`Archive: ${path.relative(process.cwd(), bundle.archive)}`);
    if (result) {
      if (result.unchanged) this.log(`${result.name} is already deployed with these exact bytes: nothing changed.`);
      else this.log(`Deployed ${result.name} to ${result.target}${result.version !== undefined ? ` (version ${result.version})` : ''}.`);
      if (result.url) this.log(`URL: ${result.url}`);
    }
    return {
      target: bundle.target,
      name: bundle.name,
      dryRun: flags['dry-run'],
      bundle: { dir: bundle.dir, archive: bundle.archive, files: bundle.files, size: bundle.size, compressedSize: bundle.compressedSize, warnings: bundle.warnings },
      ...(result ? { deploy: result } : {}),
    };
  }
}
