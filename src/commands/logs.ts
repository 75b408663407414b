import { Flags } from '@oclif/core';
import { loadAdapter } from '../../adapters/index.js';
import { WfnCommand } from '../cli/base.js';
import { locationFlags, operateNameFlag, operateTargetFlag, targetFlagValues } from '../cli/flags.js';
import { parseSince, resolveDeployedName, streamLogs } from '../project/operate.js';
import { formatLogLine } from '../target/log-line.js';

export default class Logs extends WfnCommand {
  static summary = "Print a deployed function's log: one line per request and its stderr lines (--follow: keep printing new ones).";
  static examples = ['wfn logs --target self-hosted --url http://127.0.0.1:8080 --follow', 'wfn logs --target lambda --name hello --since 2h', 'wfn logs --target lambda --since 10m --json'];
  static flags = {
    ...operateTargetFlag,
    ...operateNameFlag,
    ...locationFlags,
    follow: Flags.boolean({ char: 'f', description: 'Keep printing new lines until Ctrl-C.' }),
    since: Flags.string({ description: 'Start this far back (30s, 10m, 2h, 1d) or at this ISO date (default: 10m; with --follow: now).' }),
  };

  async run() {
    const { flags } = await this.parse(Logs);
    const since = flags.since !== undefined ? parseSince(flags.since) : flags.follow ? new Date() : parseSince('10m');
    const name = await resolveDeployedName(flags.name);
    const adapter = await loadAdapter(flags.target);
    const json = this.jsonEnabled();
    // Ctrl-C ends --follow cleanly: the reader stops, the command returns (exit 0).
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await streamLogs(adapter, name, {
        env: process.env,
        flags: targetFlagValues(flags),
        log: (m) => this.progress(m),
        follow: flags.follow,
        since,
        signal: stop.signal,
        // --json is NDJSON: one LogLine object per line, as they come.
        onLine: (line) => process.stdout.write(`${json ? JSON.stringify(line) : formatLogLine(line)}\n`),
      });
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
    return undefined;
  }
}
