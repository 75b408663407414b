import { Args, Flags } from '@oclif/core';
import { WfnCommand } from '../cli/base.js';
import { limitFlags } from '../cli/flags.js';
import { runOnce } from '../project/invoke-once.js';
import { reasonPhrase } from '../runtime/cgi.js';

export default class Run extends WfnCommand {
  static summary = 'Invoke a function once, in-process, and print the response.';
  static examples = ["wfn run --path '/x?n=3'", 'wfn run dist/hello.wasm --method POST --data @body.json --header "Content-Type: application/json"', 'wfn run --json'];
  static args = { source: Args.string({ description: 'What to run: a .wasm file or a project folder (default: the project of the current folder).' }) };
  static flags = {
    path: Flags.string({ description: 'Request path and query.', default: '/' }),
    method: Flags.string({ char: 'X', description: 'HTTP method (default GET, or POST with --data, as curl).' }),
    header: Flags.string({ char: 'H', description: "Request header 'Name: value' (repeatable).", multiple: true, default: [] }),
    data: Flags.string({ char: 'd', description: 'Request body: text, or @file.' }),
    ...limitFlags,
  };

  async run() {
    const { args, flags } = await this.parse(Run);
    const result = await runOnce({
      target: args.source,
      path: flags.path,
      method: flags.method ?? (flags.data === undefined ? 'GET' : 'POST'),
      headers: flags.header,
      data: flags.data,
      memoryMiB: flags.memory,
      timeoutMs: flags.timeout,
      log: (m) => this.progress(m),
    });
    const { response } = result;
    if (result.outcome !== 'ok') process.exitCode = 1;
    if (!this.jsonEnabled()) {
      if (result.stderr.length > 0) process.stderr.write(result.stderr);
      if (result.reason) this.progress(`${result.outcome}: ${result.reason}`);
      const head = [`HTTP/1.1 ${response.status} ${reasonPhrase(response.status)}`.trimEnd(), ...response.headers.map(([k, v]) => `${k}: ${v}`)];
      process.stdout.write(head.join('\n') + '\n\n');
      process.stdout.write(response.body);
    }
    return {
      status: response.status,
      headers: response.headers,
      bodyBase64: Buffer.from(response.body).toString('base64'),
      stderr: new TextDecoder().decode(result.stderr),
      outcome: result.outcome,
      ...(result.reason ? { reason: result.reason } : {}),
      timings: result.timings,
    };
  }
}
