import { Flags } from '@oclif/core';
import { loadAdapter } from '../../adapters/index.js';
import { WfnCommand } from '../cli/base.js';
import { terminalConfirm } from '../cli/confirm.js';
import { locationFlags, operateNameFlag, operateTargetFlag, targetFlagValues } from '../cli/flags.js';
import { removeDeployed, resolveDeployedName } from '../project/operate.js';

export default class Rm extends WfnCommand {
  static summary = 'Delete a deployed function with all its versions (asks first unless --yes).';
  static examples = ['wfn rm --target self-hosted --url http://127.0.0.1:8080 --name hello', 'wfn rm --target lambda --yes'];
  static flags = {
    ...operateTargetFlag,
    ...operateNameFlag,
    ...locationFlags,
    yes: Flags.boolean({ char: 'y', description: 'Delete without asking (needed when there is no terminal to ask on).' }),
  };

  async run() {
    const { flags } = await this.parse(Rm);
    const name = await resolveDeployedName(flags.name);
    const outcome = await removeDeployed(await loadAdapter(flags.target), name, {
      env: process.env,
      flags: targetFlagValues(flags),
      // The description of what will be deleted is shown even under --json (on stderr).
      log: (m) => process.stderr.write(`${m}\n`),
      yes: flags.yes,
      confirm: terminalConfirm(this.jsonEnabled()),
    });
    if (outcome.cancelled) this.log('Nothing deleted.');
    else this.log(outcome.removed ? `Deleted ${name} (${outcome.where}).` : `${name} is already gone: nothing to delete (${outcome.where}).`);
    return { target: flags.target, name, where: outcome.where, removed: outcome.removed, cancelled: outcome.cancelled };
  }
}
