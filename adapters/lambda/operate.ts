/**
 * `wfn logs`, `ls`, `versions`, `rollback`, `rm` on Lambda, through the AWS SDK. wfn's functions
 * are those whose Description deploy wrote (DESCRIPTION_PREFIX); the live version is the one the
 * `live` alias (and so the Function URL) points at; logs come from the function's log group
 * `/aws/lambda/<name>` (FilterLogEvents, polled for --follow).
 */
import { CloudWatchLogsClient, FilterLogEventsCommand, type FilteredLogEvent } from '@aws-sdk/client-cloudwatch-logs';
import {
  DeleteFunctionCommand,
  DeleteFunctionUrlConfigCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionUrlConfigCommand,
  LambdaClient,
  paginateListFunctions,
  paginateListVersionsByFunction,
  UpdateAliasCommand,
  type FunctionConfiguration,
} from '@aws-sdk/client-lambda';
import type { DeployedFunction, DeployedVersion, LogsOptions, OperateOptions } from '../../src/target/types.js';
import { UserError } from '../../src/util/errors.js';
import { awsUserError, isAwsError } from './aws-errors.js';
import { clientConfig, DESCRIPTION_PREFIX, LIVE_ALIAS } from './deploy.js';
import { linesOfEvent } from './log-events.js';
import { regionOf } from './where.js';
import { sleepUnlessAborted } from '../../src/util/sleep.js';

/** How often --follow asks CloudWatch for new events (FilterLogEvents allows a few calls a second per account). */
export const POLL_MS = 1000;
/** How far behind the newest event seen each poll looks again (late-indexed events, parallel sandboxes). */
export const LATE_MS = 10_000;


/** CodeSha256 (base64, of the zip) as the hex every other target shows. */
function hexSha(base64: string | undefined): string | undefined {
  return base64 ? Buffer.from(base64, 'base64').toString('hex') : undefined;
}

async function withLambda<T>(options: OperateOptions, what: string, run: (lambda: LambdaClient, call: <R>(step: string, fn: () => Promise<R>) => Promise<R>) => Promise<T>): Promise<T> {
  const config = clientConfig(options.env, 'LAMBDA');
  const lambda = new LambdaClient(config);
  const call = async <R>(step: string, fn: () => Promise<R>): Promise<R> => {
    try {
      return await fn();
    } catch (error) {
      throw awsUserError(error, step, config.endpoint, what);
    }
  };
  try {
    return await run(lambda, call);
  } finally {
    lambda.destroy();
  }
}

function noSuchFunction(name: string, options: OperateOptions): UserError {
  return new UserError(`There is no Lambda function ${name} in ${regionOf(options.env)}.`, 'See what wfn deployed there: wfn ls --target lambda (check AWS_REGION / AWS_PROFILE).');
}

/** The function's configuration, or undefined when it does not exist. */
async function getFunction(lambda: LambdaClient, name: string, call: <R>(step: string, fn: () => Promise<R>) => Promise<R>): Promise<FunctionConfiguration | undefined> {
  return call(`GetFunction ${name}`, async () => {
    try {
      return (await lambda.send(new GetFunctionCommand({ FunctionName: name }))).Configuration;
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) return undefined;
      throw error;
    }
  });
}

async function liveVersion(lambda: LambdaClient, name: string, call: <R>(step: string, fn: () => Promise<R>) => Promise<R>): Promise<string | undefined> {
  return call(`GetAlias ${name}:${LIVE_ALIAS}`, async () => {
    try {
      return (await lambda.send(new GetAliasCommand({ FunctionName: name, Name: LIVE_ALIAS }))).FunctionVersion;
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) return undefined;
      throw error;
    }
  });
}

async function publishedVersions(lambda: LambdaClient, name: string, call: <R>(step: string, fn: () => Promise<R>) => Promise<R>): Promise<FunctionConfiguration[]> {
  return call(`ListVersionsByFunction ${name}`, async () => {
    const all: FunctionConfiguration[] = [];
    for await (const page of paginateListVersionsByFunction({ client: lambda }, { FunctionName: name })) all.push(...(page.Versions ?? []));
    // $LATEST is the draft, not a version anything serves.
    return all.filter((v) => v.Version && /^\d+$/.test(v.Version)).sort((a, b) => Number(b.Version) - Number(a.Version));
  });
}

export async function listLambda(options: OperateOptions): Promise<DeployedFunction[]> {
  return withLambda(options, 'wfn ls on Lambda', async (lambda, call) => {
    const ours = await call('ListFunctions', async () => {
      const found: FunctionConfiguration[] = [];
      for await (const page of paginateListFunctions({ client: lambda }, {})) found.push(...(page.Functions ?? []).filter((f) => f.Description?.startsWith(DESCRIPTION_PREFIX)));
      return found;
    });
    const out: DeployedFunction[] = [];
    for (const fn of ours.sort((a, b) => a.FunctionName!.localeCompare(b.FunctionName!))) {
      const name = fn.FunctionName!;
      const version = await liveVersion(lambda, name, call);
      // The live version's code (after a rollback it is not $LATEST's).
      const live = version ? (await publishedVersions(lambda, name, call)).find((v) => v.Version === version) : undefined;
      const url = await call(`GetFunctionUrlConfig ${name}`, async () => {
        try {
          return (await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: name, Qualifier: LIVE_ALIAS }))).FunctionUrl;
        } catch (error) {
          if (isAwsError(error, 'ResourceNotFoundException')) return undefined;
          throw error;
        }
      });
      const code = live ?? fn;
      out.push({ name, version: version ?? '$LATEST', size: code.CodeSize, sha256: hexSha(code.CodeSha256), deployedAt: code.LastModified ? new Date(code.LastModified).toISOString() : undefined, ...(url ? { url } : {}) });
    }
    return out;
  });
}

export async function versionsLambda(name: string, options: OperateOptions): Promise<DeployedVersion[]> {
  return withLambda(options, 'wfn versions on Lambda', async (lambda, call) => {
    if (!(await getFunction(lambda, name, call))) throw noSuchFunction(name, options);
    const live = await liveVersion(lambda, name, call);
    return (await publishedVersions(lambda, name, call)).map((v) => ({
      version: v.Version!,
      live: v.Version === live,
      size: v.CodeSize,
      sha256: hexSha(v.CodeSha256),
      deployedAt: v.LastModified ? new Date(v.LastModified).toISOString() : undefined,
    }));
  });
}

export async function rollbackLambda(name: string, to: string | undefined, options: OperateOptions): Promise<{ from: string; to: string }> {
  if (to !== undefined && !/^\d+$/.test(to)) throw new UserError(`--to ${to} is not a Lambda version (a number: see wfn versions --target lambda).`);
  return withLambda(options, 'wfn rollback on Lambda', async (lambda, call) => {
    if (!(await getFunction(lambda, name, call))) throw noSuchFunction(name, options);
    const from = await liveVersion(lambda, name, call);
    if (!from) throw new UserError(`${name} has no alias "${LIVE_ALIAS}": it was not deployed by this wfn (or the alias was deleted).`, `Deploy it again with wfn deploy --target lambda: deploy publishes a version and points "${LIVE_ALIAS}" at it.`);
    const versions = (await publishedVersions(lambda, name, call)).map((v) => v.Version!);
    let target: string | undefined;
    if (to !== undefined) {
      if (!versions.includes(to)) throw new UserError(`${name} has no version ${to} (published: ${[...versions].reverse().join(', ')}).`);
      target = to;
    } else {
      target = versions.find((v) => Number(v) < Number(from));
      if (!target) throw new UserError(`${name} has no version before ${from} to roll back to.`);
    }
    if (target !== from) {
      await call(`UpdateAlias ${name}:${LIVE_ALIAS}`, () => lambda.send(new UpdateAliasCommand({ FunctionName: name, Name: LIVE_ALIAS, FunctionVersion: target })));
    }
    return { from, to: target };
  });
}

export async function removeLambda(name: string, options: OperateOptions): Promise<{ removed: boolean }> {
  return withLambda(options, 'wfn rm on Lambda', async (lambda, call) => {
    if (!(await getFunction(lambda, name, call))) return { removed: false };
    await call(`DeleteFunctionUrlConfig ${name}:${LIVE_ALIAS}`, async () => {
      try {
        await lambda.send(new DeleteFunctionUrlConfigCommand({ FunctionName: name, Qualifier: LIVE_ALIAS }));
      } catch (error) {
        if (!isAwsError(error, 'ResourceNotFoundException')) throw error;
      }
    });
    // Deletes every version and alias too.
    await call(`DeleteFunction ${name}`, async () => {
      try {
        await lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
      } catch (error) {
        if (!isAwsError(error, 'ResourceNotFoundException')) throw error;
      }
    });
    return { removed: true };
  });
}


export async function logsLambda(name: string, options: LogsOptions, pollMs = POLL_MS): Promise<void> {
  await withLambda(options, 'wfn logs on Lambda', async (lambda, call) => {
    if (!(await getFunction(lambda, name, call))) throw noSuchFunction(name, options);
  });
  const config = clientConfig(options.env, 'CLOUDWATCH_LOGS');
  const logs = new CloudWatchLogsClient(config);
  const group = `/aws/lambda/${name}`;
  // CloudWatch may take a few seconds to make an event searchable, and sandboxes write in
  // parallel: each poll looks LATE_MS behind the newest event seen and skips the ids it printed.
  const since = options.since?.getTime() ?? Date.now() - 10 * 60_000;
  let newest = since;
  const printed = new Map<string, number>();
  let toldNoGroup = false;
  try {
    for (;;) {
      const from = Math.max(since, newest - LATE_MS);
      let nextToken: string | undefined;
      const batch: FilteredLogEvent[] = [];
      try {
        do {
          const page = await logs.send(new FilterLogEventsCommand({ logGroupName: group, startTime: from, nextToken, interleaved: true }), { abortSignal: options.signal });
          batch.push(...(page.events ?? []));
          nextToken = page.nextToken;
        } while (nextToken && !options.signal.aborted);
      } catch (error) {
        if (options.signal.aborted) return;
        if (!isAwsError(error, 'ResourceNotFoundException')) throw awsUserError(error, `logs:FilterLogEvents ${group}`, config.endpoint, 'wfn logs on Lambda');
        // Lambda creates the group at the first invocation.
        if (!toldNoGroup) options.log(`${group} does not exist yet: ${name} has not run since it was created`);
        toldNoGroup = true;
      }
      batch.sort((a, b) => (a.timestamp ?? 0) - (b.timestamp ?? 0));
      for (const event of batch) {
        const at = event.timestamp ?? 0;
        const id = event.eventId ?? `${at}:${event.logStreamName}:${event.message}`;
        if (at < since || printed.has(id)) continue;
        printed.set(id, at);
        newest = Math.max(newest, at);
        for (const line of linesOfEvent(event)) options.onLine(line);
      }
      // Only ids inside the window can come back: the memory stays bounded by one window's events.
      for (const [id, at] of printed) if (at < newest - LATE_MS) printed.delete(id);
      if (!options.follow || options.signal.aborted) return;
      await sleepUnlessAborted(pollMs, options.signal);
      if (options.signal.aborted) return;
    }
  } finally {
    logs.destroy();
  }
}
