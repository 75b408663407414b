import { Args, Flags } from '@oclif/core';
import path from 'node:path';
import { loadAdapter, TARGETS } from '../../adapters/index.js';
import { WfnCommand } from '../cli/base.js';
import { limitFlags, listenFlags } from '../cli/flags.js';
import { resolveFunctionSource } from '../project/resolve.js';

export default class Dev extends WfnCommand {
  static summary = 'Serve a function locally; in a project, rebuild on change.';
  static examples = ['wfn dev', 'wfn dev --port 3000', 'wfn dev path/to/any.wasm', 'wfn dev --target cloudflare'];
  static args = { source: Args.string({ description: 'What to run: a .wasm file or a project folder (default: the project of the current folder).' }) };
  static flags = {
    ...listenFlags,
    ...limitFlags,
    target: Flags.string({ char: 't', description: 'The platform whose package to run, in its local emulator (as on wfn deploy).', options: TARGETS }),
  };

  async run() {
    const { args, flags } = await this.parse(Dev);
    const source = resolveFunctionSource(args.source);
    const log = (line: string) => process.stderr.write(`${line}\n`);
    let url: string;
    let close: () => Promise<void>;
    if (flags.target) {
      const { startTargetEmulator } = await import('../project/dev.js');
      const emulator = await startTargetEmulator(await loadAdapter(flags.target), source, { host: flags.host, port: flags.port, memoryMiB: flags.memory, timeoutMs: flags.timeout, log, progress: (m) => this.progress(m) });
      url = emulator.url;
      close = () => emulator.close();
    } else {
      const { startDevServer } = await import('../project/dev.js');
      const server = await startDevServer({
        host: flags.host,
        port: flags.port,
        projectDir: source.kind === 'project' ? source.dir : undefined,
        wasmPath: source.kind === 'wasm' ? source.path : undefined,
        memoryMiB: flags.memory,
        timeoutMs: flags.timeout,
        log,
        progress: (m) => this.progress(m),
      });
      url = server.url;
      close = () => server.close();
    }
    if (this.jsonEnabled()) this.logJson({ url, target: flags.target ?? 'dev' });
    else {
      this.log(`Serving on ${url}${flags.target ? ` (${flags.target} emulator)` : ''}\nTry: curl -i '${url}'`);
      if (source.kind === 'project') this.log(`Watching ${path.relative(process.cwd(), source.dir) || '.'}: a save rebuilds (wasm-opt -O1, light; wfn build and deploy optimize fully); a failed build keeps the last good one in service.`);
      this.log('Ctrl-C to stop.');
    }
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await close();
  }
}
