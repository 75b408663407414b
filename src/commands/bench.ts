import { Args, Flags } from '@oclif/core';
import { loadAdapter, TARGETS } from '../../adapters/index.js';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { WfnCommand } from '../cli/base.js';
import { style } from '../util/style.js';
import { DEV_TARGET } from '../bench/macro.js';
import { checkUrl, parseDuration } from '../bench/remote.js';
import { parseConcurrency, parseTargets, runBench } from '../bench/run.js';
import { resolveFunctionSource } from '../project/resolve.js';
import { UserError } from '../util/errors.js';

/** What `--targets` may name: wfn dev itself and every registered target. */
const LOCAL_TARGETS = [DEV_TARGET, ...TARGETS];
/**
 * Measured unless --targets says otherwise: every local target but the component engines.
 * jco serve starts a worker per request (~1 req/s here, `npm run bench component`), so 200
 * requests and three concurrency levels would take many minutes; name them to measure them.
 */
const DEFAULT_TARGETS = LOCAL_TARGETS.filter((t) => t !== 'component' && t !== 'spin');

export default class Bench extends WfnCommand {
  static summary = "Measure a function's cold start, latency and throughput: in-process, on every local target, and deployed.";
  static description = `Micro: compile time, cold start (fresh instance + _start) and run time in-process, with warm-up, samples, percentiles, a 95 % CI and Criterion's outlier classes.
Macro: each target's emulator runs the package that would ship; requests on fresh connections are timed like curl (connect, time to first byte, total), then throughput at each concurrency.
--url: the same timings against deployed functions, optionally spaced (--every 15m) to meet cold starts; process time = ttfb - (connect - namelookup), as the seed thesis.
Every run is saved under .wfn/bench/ and compared with the previous one. See docs/bench.md.`;
  static examples = [
    'wfn bench',
    'wfn bench dist/hello.wasm --targets dev,cloudflare --concurrency 1,10',
    'wfn bench --html report.html',
    'wfn bench --url https://hello.example.workers.dev/ --url https://hello.edgecompute.app/ --requests 8 --every 15m',
    'wfn bench --json > bench.json',
  ];
  static args = { source: Args.string({ description: 'What to run: a .wasm file or a project folder (default: the project of the current folder).' }) };
  static flags = {
    targets: Flags.string({ description: `Local targets to measure, comma-separated (${LOCAL_TARGETS.join(', ')}), or none. [default: ${DEFAULT_TARGETS.join(',')}]` }),
    requests: Flags.integer({ char: 'n', description: 'Requests per local target (latency samples; also per concurrency level) and per --url. [default: 200 local; 20 per --url, 4 with --every]', min: 1 }),
    concurrency: Flags.string({ char: 'c', description: 'Concurrency levels for throughput, comma-separated, or none.', default: '1,10,50' }),
    samples: Flags.integer({ description: 'In-process samples (cold start and run time).', default: 200, min: 2 }),
    warmup: Flags.integer({ description: 'In-process warm-up runs before sampling.', default: 20, min: 0 }),
    path: Flags.string({ description: "Request path and query for every request, e.g. '/?n=20'.", default: '/' }),
    url: Flags.string({ description: 'A deployed function to time (repeatable).', multiple: true }),
    every: Flags.string({ description: 'Spacing between --url requests (30s, 15m, 1h), to meet cold starts.' }),
    'cache-bust': Flags.boolean({ description: 'Add _wfn=<timestamp> to each --url request so a CDN cannot answer from cache (as the seed did).', default: false }),
    html: Flags.string({ description: 'Also write a self-contained HTML report with charts to this file.' }),
    save: Flags.boolean({ description: 'Keep the results under .wfn/bench/ (and compare with the previous run).', default: true, allowNo: true }),
  };

  async run() {
    const { args, flags } = await this.parse(Bench);
    const urls = (flags.url ?? []).map(checkUrl);
    const everyMs = flags.every ? parseDuration(flags.every) : 0;
    if (everyMs > 0 && urls.length === 0) throw new UserError('--every spaces the --url requests, but no --url was given.', 'Add --url https://your-function.example/');
    // Only --url: do not build or measure the current folder unless asked to.
    const urlOnly = urls.length > 0 && args.source === undefined && flags.targets === undefined;
    const source = urlOnly ? undefined : resolveFunctionSource(args.source);
    const targets = urlOnly ? [] : parseTargets(flags.targets ?? DEFAULT_TARGETS.join(','), LOCAL_TARGETS);
    const concurrency = parseConcurrency(flags.concurrency);
    const baseDir = source?.kind === 'project' ? source.dir : process.cwd();

    const result = await runBench({
      source,
      baseDir,
      save: flags.save,
      progress: (m) => this.progress(m),
      loadAdapter,
      settings: {
        samples: flags.samples,
        warmup: flags.warmup,
        requests: flags.requests ?? 200,
        urlRequests: flags.requests ?? (everyMs > 0 ? 4 : 20),
        concurrency,
        targets,
        path: flags.path.startsWith('/') ? flags.path : `/${flags.path}`,
        urls,
        everyMs,
        cacheBust: flags['cache-bust'],
      },
    });

    if (flags.html) {
      const { renderHtml } = await import('../bench/html.js');
      const file = path.resolve(flags.html);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, renderHtml(result));
      this.progress(`report written to ${path.relative(process.cwd(), file) || file}`);
    }
    if (!this.jsonEnabled()) {
      const { renderTable } = await import('../bench/table.js');
      this.log(renderTable(result, style));
    }
    return result;
  }
}
