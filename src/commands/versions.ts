import { loadAdapter } from '../../adapters/index.js';
import { WfnCommand } from '../cli/base.js';
import { locationFlags, operateNameFlag, operateTargetFlag, targetFlagValues } from '../cli/flags.js';
import { listVersions, resolveDeployedName } from '../project/operate.js';
import { formatBytes } from '../util/bytes.js';

export default class Versions extends WfnCommand {
  static summary = "List a deployed function's versions, newest first; * marks the live one.";
  static examples = ['wfn versions --target self-hosted --url http://127.0.0.1:8080 --name hello', 'wfn versions --target lambda'];
  static flags = { ...operateTargetFlag, ...operateNameFlag, ...locationFlags };

  async run() {
    const { flags } = await this.parse(Versions);
    const name = await resolveDeployedName(flags.name);
    const versions = await listVersions(await loadAdapter(flags.target), name, { env: process.env, flags: targetFlagValues(flags), log: (m) => this.progress(m) });
    for (const v of versions) {
      const parts = [`${v.live ? '*' : ' '} ${v.version}`, v.size !== undefined ? formatBytes(v.size) : undefined, v.sha256 ? `sha256 ${v.sha256.slice(0, 12)}` : undefined, v.deployedAt];
      this.log(parts.filter(Boolean).join('  '));
    }
    return { target: flags.target, name, versions };
  }
}
