/**
 * oclif's command_not_found hook: `wfn biuld` says `did you mean "build"?` and lists the
 * commands, as {"error":{"message","hint"}} under --json, with exit code 2 (a usage error,
 * docs/cli.md), instead of oclif's bare "command biuld not found".
 */
import type { Hook } from '@oclif/core';
import { didYouMean } from '../util/did-you-mean.js';
import { errStyle } from '../util/style.js';

/** The message and hint for an unknown command among `commands`. */
export function unknownCommand(id: string, commands: string[]): { message: string; hint: string } {
  const guess = didYouMean(id, commands);
  return {
    message: `"${id}" is not a wfn command.${guess ? ` Did you mean "${guess}"?` : ''}`,
    hint: `Commands: ${[...commands].sort().join(', ')}. See: wfn help`,
  };
}

const hook: Hook<'command_not_found'> = async function (options) {
  const commands = options.config.commands.filter((c) => !c.hidden).map((c) => c.id);
  const { message, hint } = unknownCommand(options.id, commands);
  if (options.argv?.includes('--json')) {
    process.stdout.write(`${JSON.stringify({ error: { message, hint } }, null, 2)}\n`);
  } else {
    process.stderr.write(`${errStyle.red('Error:')} ${message}\n${errStyle.yellow(hint)}\n`);
  }
  this.exit(2);
};

export default hook;
