import { loadAdapter } from '../../adapters/index.js';
import { WfnCommand } from '../cli/base.js';
import { locationFlags, operateTargetFlag, targetFlagValues } from '../cli/flags.js';
import { listDeployed } from '../project/operate.js';
import { formatBytes } from '../util/bytes.js';

export default class Ls extends WfnCommand {
  static summary = 'List the functions wfn deployed on a target: live version, size, sha256, when.';
  static examples = ['wfn ls --target self-hosted --url http://127.0.0.1:8080', 'wfn ls --target lambda --json'];
  static flags = { ...operateTargetFlag, ...locationFlags };

  async run() {
    const { flags } = await this.parse(Ls);
    const functions = await listDeployed(await loadAdapter(flags.target), { env: process.env, flags: targetFlagValues(flags), log: (m) => this.progress(m) });
    if (functions.length === 0) this.log(`No functions deployed by wfn on ${flags.target}.`);
    for (const f of functions) {
      const parts = [f.name, `version ${f.version}`, f.size !== undefined ? formatBytes(f.size) : undefined, f.sha256 ? `sha256 ${f.sha256.slice(0, 12)}` : undefined, f.deployedAt, f.url];
      this.log(parts.filter(Boolean).join('  '));
    }
    return { target: flags.target, functions };
  }
}
