import { Args, Flags } from '@oclif/core';
import path from 'node:path';
import { loadAdapter, TARGETS } from '../../adapters/index.js';
import { checkTargetLimits } from '../project/deploy.js';
import { WfnCommand } from '../cli/base.js';
import { loadConfig } from '../config/load.js';
import { buildProject } from '../pipeline/build.js';
import { formatBuildSummary } from '../pipeline/summary.js';
import { resolveProjectDir } from '../project/resolve.js';

export default class Build extends WfnCommand {
  static summary = 'Build the project into one WASI module: compile, validate, snapshot, optimize.';
  static examples = ['wfn build', 'wfn build --optimize Oz', 'wfn build --no-snapshot --json', 'wfn build --target cloudflare --target lambda'];
  static args = { dir: Args.string({ description: 'Project folder (default: the one holding wfn.toml, from the current folder upwards).' }) };
  static flags = {
    optimize: Flags.string({ options: ['O3', 'Oz', 'none'], description: 'wasm-opt level (default: wfn.toml, else O3).' }),
    snapshot: Flags.boolean({ allowNo: true, description: 'Pre-initialize with Wizer (default: when the module exports wizer.initialize).' }),
    force: Flags.boolean({ description: 'Rebuild even when nothing changed.' }),
    target: Flags.string({ char: 't', multiple: true, options: TARGETS, description: "Also package for this target and fail when it is over the target's size limits (repeatable)." }),
  };

  async run() {
    const { args, flags } = await this.parse(Build);
    const config = await loadConfig(resolveProjectDir(args.dir));
    const result = await buildProject(config, {
      optimize: flags.optimize as 'O3' | 'Oz' | 'none' | undefined,
      snapshot: flags.snapshot,
      force: flags.force,
      log: (m) => this.progress(m),
    });
    this.log(formatBuildSummary(result, path.relative(process.cwd(), result.artifact)));
    const packages = [];
    for (const target of flags.target ?? []) {
      const bundle = await checkTargetLimits(await loadAdapter(target), args.dir, (m) => this.progress(m));
      this.log(`fits ${target}: ${path.relative(process.cwd(), bundle.dir) || '.'}`);
      packages.push({ target, dir: bundle.dir, size: bundle.size, compressedSize: bundle.compressedSize, warnings: bundle.warnings });
    }
    return {
      artifact: result.artifact,
      manifest: result.manifestPath,
      size: result.size,
      sha256: result.sha256,
      cached: result.cached,
      durationMs: Math.round(result.durationMs),
      steps: result.manifest.steps,
      sizes: result.manifest.sizes,
      files: result.manifest.files,
      ...(packages.length ? { packages } : {}),
    };
  }
}
