/** `wfn help [command]`: oclif's help as a command (oclif has no built-in one without a plugin), with --json and did-you-mean. */
import { Args, loadHelpClass } from '@oclif/core';
import { WfnCommand } from '../cli/base.js';
import { unknownCommand } from '../cli/command-not-found.js';
import { UserError } from '../util/errors.js';

export default class Help extends WfnCommand {
  static summary = 'Show the commands, or one command\'s flags and examples.';
  static examples = ['wfn help', 'wfn help deploy', 'wfn help dev --json'];
  static args = { command: Args.string({ description: 'The command to explain (default: all of them).' }) };

  async run() {
    const { args } = await this.parse(Help);
    const commands = this.config.commands.filter((c) => !c.hidden);
    if (args.command !== undefined) {
      const command = this.config.findCommand(args.command);
      if (!command) {
        const { message, hint } = unknownCommand(args.command, commands.map((c) => c.id));
        throw new UserError(message, hint, 2);
      }
      if (!this.jsonEnabled()) {
        const HelpClass = await loadHelpClass(this.config);
        await new HelpClass(this.config, this.config.pjson.oclif.helpOptions ?? {}).showHelp([command.id]);
      }
      const flags = Object.entries(command.flags).map(([name, f]) => ({
        name,
        ...(f.char ? { char: f.char } : {}),
        description: f.description,
        ...('options' in f && f.options ? { options: f.options } : {}),
      }));
      const argList = Object.entries(command.args).map(([name, a]) => ({ name, description: a.description, required: Boolean(a.required) }));
      return { command: command.id, summary: command.summary, description: command.description, args: argList, flags, examples: command.examples };
    }
    if (!this.jsonEnabled()) {
      const HelpClass = await loadHelpClass(this.config);
      await new HelpClass(this.config, this.config.pjson.oclif.helpOptions ?? {}).showHelp([]);
    }
    return { commands: commands.map((c) => ({ command: c.id, summary: c.summary })).sort((a, b) => a.command.localeCompare(b.command)) };
  }
}
