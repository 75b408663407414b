import { Flags } from '@oclif/core';
import { readFile } from 'node:fs/promises';
import { WfnCommand } from '../cli/base.js';
import { listenFlags } from '../cli/flags.js';
import { errStyle } from '../util/style.js';
import { DEFAULT_LIMITS } from '../config/types.js';
import { UserError } from '../util/errors.js';

export default class Serve extends WfnCommand {
  static summary = 'Run the self-hosted platform: many functions at /<name>/, deployed through the admin API at /_wfn/.';
  static description =
    'The admin token comes from WFN_TOKEN or --token-file; without one, serve refuses to start unless --insecure-no-auth is given. See docs/self-hosted.md.';
  static examples = [
    'WFN_TOKEN=$(openssl rand -hex 32) wfn serve --port 8080 --data-dir /var/lib/wfn',
    'wfn serve --store s3 --s3-bucket my-functions --token-file /etc/wfn/token',
    'wfn serve --insecure-no-auth   # local experiments only',
  ];
  static flags = {
    ...listenFlags,
    // The shared --timeout/--memory, as the defaults of functions deployed without their own.
    timeout: Flags.integer({ description: 'Timeout per request of a function deployed without one, ms (default 10000).', min: 1 }),
    memory: Flags.integer({ description: 'Memory cap of a function deployed without one, MiB (default 128).', min: 1, max: 4096 }),
    'data-dir': Flags.string({ description: 'Folder of the file store.', default: './.wfn-serve' }),
    store: Flags.string({ description: 'Where functions are kept.', options: ['file', 's3'], default: 'file' }),
    's3-bucket': Flags.string({ description: 'S3 bucket of the s3 store.', env: 'WFN_S3_BUCKET' }),
    's3-prefix': Flags.string({ description: 'Key prefix in the bucket, e.g. prod/.', env: 'WFN_S3_PREFIX' }),
    'poll-interval': Flags.integer({ description: 'S3 store: how often replicas look for new deploys, ms.', default: 2000, min: 100, max: 60_000 }),
    'token-file': Flags.string({ description: 'File holding the admin token (instead of WFN_TOKEN).' }),
    'insecure-no-auth': Flags.boolean({ description: 'Start without an admin token: anyone who reaches the port can deploy. Local experiments only.' }),
    'log-format': Flags.string({ description: 'Access log and messages as text or JSON lines.', options: ['text', 'json'], default: 'text' }),
    'max-body': Flags.integer({ description: 'Largest upload and request body, MiB.', default: 64, min: 1, max: 2048 }),
    'max-body-in-flight': Flags.integer({ description: 'Request bodies held in memory at once, all requests together, MiB (default: 256, at least --max-body); beyond it new bodies are refused with 503.', min: 1, max: 65_536 }),
    'max-body-per-connection': Flags.integer({ description: 'Request bodies held in memory at once per connection, MiB (default: --max-body + 1).', min: 1, max: 65_536 }),
    workers: Flags.integer({ description: 'Worker threads that run functions (default: the cores, at least 2).', min: 1, max: 256 }),
    concurrency: Flags.integer({ description: 'Requests of one function running at once (default: workers - 1); a function config may set its own.', min: 1, max: 1024 }),
    queue: Flags.integer({ description: 'Requests of one function that may wait for a slot before 503.', default: 64, min: 0, max: 100_000 }),
    'shutdown-timeout': Flags.integer({ description: 'On SIGTERM, longest wait for in-flight requests, ms.', default: 10_000, min: 0 }),
  };

  private async token(tokenFile: string | undefined, insecure: boolean): Promise<string | undefined> {
    let token: string | undefined;
    if (tokenFile) {
      try {
        token = (await readFile(tokenFile, 'utf8')).trim();
      } catch (error) {
        throw new UserError(`Cannot read the token file ${tokenFile}: ${(error as NodeJS.ErrnoException).code ?? error}`);
      }
      if (!token) throw new UserError(`The token file ${tokenFile} is empty.`);
    } else if (process.env.WFN_TOKEN?.trim()) {
      token = process.env.WFN_TOKEN.trim();
    }
    if (token) {
      if (insecure) this.warn('--insecure-no-auth is ignored: an admin token is set.');
      return token;
    }
    if (!insecure) {
      throw new UserError(
        'No admin token: wfn serve refuses to start without one.',
        'Set WFN_TOKEN (e.g. export WFN_TOKEN=$(openssl rand -hex 32)) or pass --token-file FILE; for a local experiment only, pass --insecure-no-auth.',
      );
    }
    return undefined;
  }

  async run() {
    const { flags } = await this.parse(Serve);
    const token = await this.token(flags['token-file'], flags['insecure-no-auth']);
    // A busy port is said before the store is read and every function compiled.
    const { checkPortFree } = await import('../http/listen.js');
    await checkPortFree(flags.port, flags.host);
    const format = flags['log-format'] as 'text' | 'json';
    const { createServeLog } = await import('../server/serve/log.js');
    const log = createServeLog(format, {
      access: (line) => process.stdout.write(`${line}\n`),
      messages: (line) => process.stderr.write(`${line}\n`),
    });
    if (!token) {
      const loud = `NO AUTHENTICATION (--insecure-no-auth): anyone who can reach ${flags.host}:${flags.port} can deploy, replace and delete functions.`;
      process.stderr.write(`${errStyle.red(errStyle.bold('WARNING'))} ${errStyle.red(loud)}\n`);
      if (format === 'json') log.warn(loud);
    }
    const { createStore } = await import('../server/serve/store.js');
    const { startServe } = await import('../server/serve/server.js');
    const store = await createStore({ kind: flags.store as 'file' | 's3', dataDir: flags['data-dir'], bucket: flags['s3-bucket'], prefix: flags['s3-prefix'] });
    const server = await startServe({
      host: flags.host,
      port: flags.port,
      store,
      token,
      defaultLimits: { memoryMiB: flags.memory ?? DEFAULT_LIMITS.memoryMiB, timeoutMs: flags.timeout ?? DEFAULT_LIMITS.timeoutMs },
      maxBodyBytes: flags['max-body'] * 1024 * 1024,
      maxBodyInFlightBytes: flags['max-body-in-flight'] === undefined ? undefined : flags['max-body-in-flight'] * 1024 * 1024,
      maxBodyPerConnectionBytes: flags['max-body-per-connection'] === undefined ? undefined : flags['max-body-per-connection'] * 1024 * 1024,
      workers: flags.workers,
      concurrency: flags.concurrency,
      queue: flags.queue,
      pollIntervalMs: flags.store === 's3' ? flags['poll-interval'] : 0,
      shutdownTimeoutMs: flags['shutdown-timeout'],
      log,
    });
    const names = server.registry.all().map((f) => f.name).sort();
    const summary = { url: server.url, store: store.location, storeKind: store.kind, functions: names, workers: server.pool.size, auth: token ? 'token' : 'none' };
    if (this.jsonEnabled()) this.logJson(summary);
    else {
      log.info(`wfn serve on ${server.url} (store: ${store.location}, ${server.pool.size} workers, ${names.length} function(s)${names.length ? `: ${names.join(', ')}` : ''})`);
      log.info(`admin API: ${server.url}/_wfn/  functions: ${server.url}/<name>/`);
    }
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      process.once('SIGTERM', () => resolve('SIGTERM'));
      process.once('SIGINT', () => resolve('SIGINT'));
    });
    log.info(`${signal}: draining (in-flight requests finish, at most ${flags['shutdown-timeout']} ms)`);
    await server.close();
    log.info('stopped');
    // The AWS SDK's sockets and oclif may hold the loop open; every request is answered by now.
    process.exit(0);
  }
}
