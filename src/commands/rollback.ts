import { Flags } from '@oclif/core';
import { loadAdapter } from '../../adapters/index.js';
import { WfnCommand } from '../cli/base.js';
import { locationFlags, operateNameFlag, operateTargetFlag, targetFlagValues } from '../cli/flags.js';
import { resolveDeployedName, rollbackDeployed } from '../project/operate.js';

export default class Rollback extends WfnCommand {
  static summary = 'Make an earlier version of a deployed function live again (default: the one before the live one).';
  static examples = ['wfn rollback --target self-hosted --url http://127.0.0.1:8080', 'wfn rollback --target lambda --name hello --to 3'];
  static flags = {
    ...operateTargetFlag,
    ...operateNameFlag,
    ...locationFlags,
    to: Flags.string({ description: 'The version to make live (see wfn versions).' }),
  };

  async run() {
    const { flags } = await this.parse(Rollback);
    const name = await resolveDeployedName(flags.name);
    // Where the function lives and what will change is said even under --json (on stderr).
    const outcome = await rollbackDeployed(await loadAdapter(flags.target), name, flags.to, { env: process.env, flags: targetFlagValues(flags), log: (m) => process.stderr.write(`${m}\n`) });
    this.log(outcome.from === outcome.to ? `${name} already serves version ${outcome.to}: nothing changed.` : `Rolled ${name} back from version ${outcome.from} to version ${outcome.to}.`);
    return { target: flags.target, name, where: outcome.where, from: outcome.from, to: outcome.to };
  }
}
