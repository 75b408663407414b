import { Args, Flags } from '@oclif/core';
import path from 'node:path';
import { WfnCommand } from '../cli/base.js';
import { scaffoldProject, wfnInvocation } from '../project/scaffold.js';

export default class New extends WfnCommand {
  static summary = 'Create a function project from a template.';
  static examples = ['wfn new hello --lang assemblyscript', 'wfn new fib --lang rust --template fib'];
  static args = { name: Args.string({ required: true, description: 'Function name (also the folder name).' }) };
  static flags = {
    lang: Flags.string({ char: 'l', required: true, description: 'assemblyscript | rust | go | js' }),
    // No -t: that is --target on dev and deploy.
    template: Flags.string({ default: 'http', description: 'http | fib | init | proxy | kv | static' }),
    dir: Flags.string({ description: 'Parent folder to create the project in.', default: '.' }),
  };

  async run() {
    const { args, flags } = await this.parse(New);
    const result = await scaffoldProject(args.name, flags.lang, flags.template, flags.dir);
    const rel = path.relative(process.cwd(), result.dir) || '.';
    this.log(`Created ${rel} (${result.language}, template ${result.template}):`);
    for (const f of result.files) this.log(`  ${f}`);
    const wfn = wfnInvocation(result.dir);
    this.log(`\nNext:\n  cd ${rel}\n  ${wfn} build\n  ${wfn} dev`);
    return { ...result, next: [`cd ${rel}`, `${wfn} build`, `${wfn} dev`] };
  }
}
