/**
 * `wfn deploy --target lambda`: create or update the function from the zip, make its
 * configuration match (memory, timeout, variables), publish a version, point the `live`
 * alias at it, and give the alias a Function URL (so `wfn rollback` moves the alias and the
 * URL follows).
 * Credentials and region come from the SDK's default chain; AWS_ENDPOINT_URL (or
 * AWS_ENDPOINT_URL_LAMBDA / _IAM) points it at another endpoint (moto in the tests).
 */
import { secretValues } from '../../src/config/secrets.js';
import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  AddPermissionCommand,
  CreateAliasCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionUrlConfigCommand,
  GetPolicyCommand,
  LambdaClient,
  PublishVersionCommand,
  RemovePermissionCommand,
  UpdateAliasCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  UpdateFunctionUrlConfigCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type AddPermissionCommandInput,
  type FunctionConfiguration,
  type FunctionUrlAuthType,
} from '@aws-sdk/client-lambda';
import { readFile } from 'node:fs/promises';
import type { Bundle, DeployOptions, DeployResult } from '../../src/target/types.js';
import { UserError } from '../../src/util/errors.js';
import { awsUserError, isAwsError } from './aws-errors.js';
import { ensureExecutionRole } from './iam-role.js';
import { ENV_LIMIT_BYTES, INLINE_ZIP_LIMIT, lambdaSettings, variablesSize } from './limits.js';
import { HANDLER, KV_HELPER_FILE, RUNTIME } from './package-config.js';
import { ensureTables, tableName, tablePolicy } from './kv-dynamodb.js';
import { codeSha256 } from './zip.js';

/** Graviton: cheaper per GB-second; the .wasm does not care about the CPU. */
export const ARCHITECTURE = 'arm64';
/** The alias the Function URL serves: deploy points it at the version it publishes, rollback at an earlier one. */
export const LIVE_ALIAS = 'live';
/** What marks a function as wfn's (its Description starts with it): `wfn ls` lists those. */
export const DESCRIPTION_PREFIX = 'wfn function ';
/** Statement ids of the permissions that make a Function URL with AuthType NONE public. */
export const URL_PERMISSIONS = ['wfn-function-url-public', 'wfn-function-url-invoke'] as const;

export interface LambdaDeployFlags {
  role?: string;
  urlAuth?: 'none' | 'iam';
}

/** The configuration wfn manages; anything else on the function is left as it is. */
interface DesiredConfig {
  Runtime: string;
  Handler: string;
  MemorySize: number;
  Timeout: number;
  Environment: { Variables: Record<string, string> };
  Role?: string;
}

export function clientConfig(env: NodeJS.ProcessEnv, service: 'LAMBDA' | 'IAM' | 'DYNAMODB' | 'CLOUDWATCH_LOGS') {
  const endpoint = env[`AWS_ENDPOINT_URL_${service}`] ?? env.AWS_ENDPOINT_URL;
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN }
      : undefined; // the SDK's default chain (profiles, SSO, instance roles...)
  return { ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}), ...(credentials ? { credentials } : {}) };
}

/** The variables as Lambda gets them: configured ones plus secrets read from this shell. */
export function functionVariables(bundle: Bundle, env: NodeJS.ProcessEnv): Record<string, string> {
  const { values, missing } = secretValues(bundle.artifact.secrets, env);
  const vars: Record<string, string> = { ...bundle.artifact.env, ...values };
  if (missing.length > 0) throw new UserError(`Secret${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not set in the environment.`, `Export ${missing[0]}=... before deploying: wfn passes secrets to Lambda as environment variables.`);
  const size = variablesSize(vars);
  if (size > ENV_LIMIT_BYTES) throw new UserError(`The function's variables take ${size} bytes; Lambda allows ${ENV_LIMIT_BYTES}.`, 'Move large values out of [env] (e.g. into a file the function builds in).');
  return Object.fromEntries(Object.entries(vars).sort(([a], [b]) => a.localeCompare(b)));
}

function sameVariables(a: Record<string, string> | undefined, b: Record<string, string>): boolean {
  const sort = (v: Record<string, string>) => JSON.stringify(Object.entries(v).sort(([x], [y]) => x.localeCompare(y)));
  return sort(a ?? {}) === sort(b);
}

/** The configuration keys that differ between the function and what wfn wants. */
function configChanges(current: FunctionConfiguration, desired: DesiredConfig): Partial<DesiredConfig> {
  const changes: Partial<DesiredConfig> = {};
  if (current.Runtime !== desired.Runtime) changes.Runtime = desired.Runtime;
  if (current.Handler !== desired.Handler) changes.Handler = desired.Handler;
  if (current.MemorySize !== desired.MemorySize) changes.MemorySize = desired.MemorySize;
  if (current.Timeout !== desired.Timeout) changes.Timeout = desired.Timeout;
  if (!sameVariables(current.Environment?.Variables, desired.Environment.Variables)) changes.Environment = desired.Environment;
  if (desired.Role && current.Role !== desired.Role) changes.Role = desired.Role;
  return changes;
}

async function step<T>(name: string, endpoint: string | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw awsUserError(error, name, endpoint);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function deployLambda(bundle: Bundle, options: DeployOptions): Promise<DeployResult> {
  const flags = options.flags as LambdaDeployFlags;
  const log = options.log;
  const name = bundle.name;
  if (!bundle.archive) throw new Error('the Lambda bundle has no zip');
  const zip = new Uint8Array(await readFile(bundle.archive));
  if (zip.length > INLINE_ZIP_LIMIT) throw new UserError(`The zip is ${zip.length} bytes; Lambda takes at most ${INLINE_ZIP_LIMIT} bytes inline.`, 'Shrink the function (build.optimize = "Oz" in wfn.toml).');
  const sha = codeSha256(zip);
  const urlAuth: FunctionUrlAuthType = flags.urlAuth === 'iam' ? 'AWS_IAM' : 'NONE';
  const settings = lambdaSettings(bundle.artifact.limits);
  const desired: DesiredConfig = {
    Runtime: RUNTIME,
    Handler: HANDLER,
    MemorySize: settings.memorySize,
    Timeout: settings.timeoutSeconds,
    Environment: { Variables: functionVariables(bundle, options.env) },
    ...(flags.role ? { Role: flags.role } : {}),
  };
  const lambdaConfig = clientConfig(options.env, 'LAMBDA');
  const endpoint = lambdaConfig.endpoint;
  const lambda = new LambdaClient(lambdaConfig);
  const waiter = { client: lambda, maxWaitTime: 300, minDelay: 1, maxDelay: 5 };

  try {
    let current: FunctionConfiguration | undefined;
    try {
      current = (await lambda.send(new GetFunctionCommand({ FunctionName: name }))).Configuration;
    } catch (error) {
      if (!isAwsError(error, 'ResourceNotFoundException')) throw awsUserError(error, `GetFunction ${name}`, endpoint);
    }

    let roleArn = flags.role ?? current?.Role;
    let codeChanged = false;
    let configChanged = false;
    let config: FunctionConfiguration;
    if (!current) {
      let roleCreated = false;
      if (!roleArn) {
        const iam = new IAMClient(clientConfig(options.env, 'IAM'));
        try {
          const role = await ensureExecutionRole(iam, log);
          roleArn = role.arn;
          roleCreated = role.created;
        } finally {
          iam.destroy();
        }
      }
      log(`creating function ${name} (${RUNTIME}, ${ARCHITECTURE}, ${desired.MemorySize} MB, ${desired.Timeout} s)`);
      config = await step(`CreateFunction ${name}`, endpoint, async () => {
        // A role created seconds ago is not yet visible to Lambda: retry while IAM propagates.
        for (let attempt = 1; ; attempt++) {
          try {
            return await lambda.send(
              new CreateFunctionCommand({
                FunctionName: name,
                Runtime: desired.Runtime as never,
                Handler: desired.Handler,
                Role: roleArn!,
                Code: { ZipFile: zip },
                MemorySize: desired.MemorySize,
                Timeout: desired.Timeout,
                Environment: desired.Environment,
                Architectures: [ARCHITECTURE],
                PackageType: 'Zip',
                Description: `${DESCRIPTION_PREFIX}${name} (WebAssembly, WASI preview1 + CGI)`,
                Tags: { 'managed-by': 'wfn' },
              }),
            );
          } catch (error) {
            const propagating = roleCreated && isAwsError(error, 'InvalidParameterValueException') && /cannot be assumed|role/i.test((error as Error).message);
            if (!propagating || attempt >= 12) throw error;
            if (attempt === 1) log('waiting for the new role to reach Lambda (IAM is eventually consistent)');
            await sleep(2500);
          }
        }
      });
      await step(`waiting for ${name} to become Active`, endpoint, () => waitUntilFunctionActiveV2(waiter, { FunctionName: name }));
      codeChanged = configChanged = true;
    } else {
      if (current.PackageType && current.PackageType !== 'Zip') {
        throw new UserError(`The function ${name} exists and is a ${current.PackageType} function; wfn deploys zip functions.`, 'Pass another --name.');
      }
      if (current.LastUpdateStatus === 'InProgress') {
        log(`waiting for an update of ${name} already in progress`);
        await step(`waiting for ${name}'s update`, endpoint, () => waitUntilFunctionUpdatedV2(waiter, { FunctionName: name }));
      }
      const archChanged = (current.Architectures?.[0] ?? 'x86_64') !== ARCHITECTURE;
      config = current;
      if (current.CodeSha256 !== sha || archChanged) {
        log(`updating the code of ${name}`);
        config = await step(`UpdateFunctionCode ${name}`, endpoint, () => lambda.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip, Architectures: [ARCHITECTURE] })));
        await step(`waiting for ${name}'s code update`, endpoint, () => waitUntilFunctionUpdatedV2(waiter, { FunctionName: name }));
        codeChanged = true;
      } else log(`the code of ${name} is unchanged (same CodeSha256 ${sha})`);
      const changes = configChanges(current, desired);
      if (Object.keys(changes).length > 0) {
        log(`updating the configuration of ${name}: ${Object.keys(changes).join(', ')}`);
        config = await step(`UpdateFunctionConfiguration ${name}`, endpoint, () => lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, ...changes } as never)));
        await step(`waiting for ${name}'s configuration update`, endpoint, () => waitUntilFunctionUpdatedV2(waiter, { FunctionName: name }));
        configChanged = true;
      }
    }

    const kv = await ensureKvTables(bundle, options.env, config.Role ?? roleArn, log);
    const live = await publishLive(lambda, name, sha, endpoint, log);
    const url = await ensureFunctionUrl(lambda, name, urlAuth, endpoint, log);
    const unchanged = !codeChanged && !configChanged && !url.changed && !live.changed;
    log(unchanged ? `${name} is already deployed with these exact bytes and settings: nothing changed` : `${name} is deployed`);
    return {
      target: 'lambda',
      name,
      url: url.url,
      version: live.version,
      unchanged,
      details: {
        functionArn: config.FunctionArn ?? current?.FunctionArn,
        alias: LIVE_ALIAS,
        codeSha256: sha,
        codeSize: zip.length,
        runtime: RUNTIME,
        architecture: ARCHITECTURE,
        memorySize: desired.MemorySize,
        timeout: desired.Timeout,
        role: config.Role ?? roleArn,
        urlAuth,
        codeChanged,
        configChanged,
        ...(kv.length ? { kvTables: kv } : {}),
      },
    };
  } finally {
    lambda.destroy();
  }
}

/**
 * Publishes $LATEST as a version (Lambda returns the last one when nothing changed since) and
 * points the `live` alias at it: the Function URL serves the alias.
 */
async function publishLive(lambda: LambdaClient, name: string, sha: string, endpoint: string | undefined, log: (message: string) => void): Promise<{ version: string; changed: boolean }> {
  const published = await step(`PublishVersion ${name}`, endpoint, () => lambda.send(new PublishVersionCommand({ FunctionName: name, CodeSha256: sha })));
  const version = published.Version!;
  let current: string | undefined;
  try {
    current = (await lambda.send(new GetAliasCommand({ FunctionName: name, Name: LIVE_ALIAS }))).FunctionVersion;
  } catch (error) {
    if (!isAwsError(error, 'ResourceNotFoundException')) throw awsUserError(error, `GetAlias ${name}:${LIVE_ALIAS}`, endpoint);
  }
  if (current === version) return { version, changed: false };
  if (current === undefined) {
    await step(`CreateAlias ${name}:${LIVE_ALIAS}`, endpoint, () => lambda.send(new CreateAliasCommand({ FunctionName: name, Name: LIVE_ALIAS, FunctionVersion: version, Description: 'what the Function URL serves (wfn deploy, wfn rollback)' })));
  } else {
    await step(`UpdateAlias ${name}:${LIVE_ALIAS}`, endpoint, () => lambda.send(new UpdateAliasCommand({ FunctionName: name, Name: LIVE_ALIAS, FunctionVersion: version })));
  }
  log(`version ${version} of ${name} is live (alias ${LIVE_ALIAS}${current ? `, was version ${current}` : ''})`);
  return { version, changed: true };
}

/** The inline policy on the execution role that lets one function use its key-value tables. */
export function kvPolicyName(functionName: string): string {
  return `wfn-kv-${functionName}`;
}

/**
 * A function that uses key-value stores: one DynamoDB table per `[kv] stores` name, created when
 * absent, and an inline policy on its execution role that allows the item operations on those
 * tables and nothing else. Returns the tables.
 */
async function ensureKvTables(bundle: Bundle, env: NodeJS.ProcessEnv, roleArn: string | undefined, log: (message: string) => void): Promise<string[]> {
  if (!bundle.files.some((f) => f.path === KV_HELPER_FILE)) return [];
  const tables = (bundle.artifact.kv?.stores ?? []).map((store) => tableName(bundle.name, store));
  if (tables.length === 0) return [];
  const dynamoConfig = clientConfig(env, 'DYNAMODB');
  const dynamo = new DynamoDBClient(dynamoConfig);
  let arns: string[];
  try {
    arns = await step(`DynamoDB tables ${tables.join(', ')}`, dynamoConfig.endpoint, () => ensureTables(dynamo, tables, log));
  } finally {
    dynamo.destroy();
  }
  if (!roleArn) throw new Error(`the function ${bundle.name} has no execution role`);
  const roleName = roleArn.split('/').at(-1)!;
  const iamConfig = clientConfig(env, 'IAM');
  const iam = new IAMClient(iamConfig);
  try {
    await step(`iam:PutRolePolicy ${kvPolicyName(bundle.name)} on ${roleName}`, iamConfig.endpoint, () =>
      iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: kvPolicyName(bundle.name), PolicyDocument: JSON.stringify(tablePolicy(arns)) })),
    );
  } finally {
    iam.destroy();
  }
  log(`the role ${roleName} may read and write ${tables.join(', ')} (inline policy ${kvPolicyName(bundle.name)}), no other table`);
  return tables;
}

async function ensureFunctionUrl(
  lambda: LambdaClient,
  name: string,
  authType: FunctionUrlAuthType,
  endpoint: string | undefined,
  log: (message: string) => void,
): Promise<{ url: string; changed: boolean }> {
  let url: string | undefined;
  let changed = false;
  try {
    const existing = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: name, Qualifier: LIVE_ALIAS }));
    url = existing.FunctionUrl!;
    if (existing.AuthType !== authType) {
      log(`changing the Function URL's auth from ${existing.AuthType} to ${authType}`);
      await step('UpdateFunctionUrlConfig', endpoint, () => lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: name, Qualifier: LIVE_ALIAS, AuthType: authType })));
      changed = true;
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    if (!isAwsError(error, 'ResourceNotFoundException')) throw awsUserError(error, 'GetFunctionUrlConfig', endpoint);
    const created = await step('CreateFunctionUrlConfig', endpoint, () => lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, Qualifier: LIVE_ALIAS, AuthType: authType })));
    url = created.FunctionUrl!;
    changed = true;
    log(`created the Function URL ${url} (auth ${authType})`);
    // A function deployed before wfn served the alias has a URL on the function itself, serving $LATEST.
    const earlier = await lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: name })).catch(() => undefined);
    if (earlier?.FunctionUrl && earlier.FunctionUrl !== url) {
      log(`note: the Function URL now serves the alias ${LIVE_ALIAS} (wfn rollback moves it); the earlier URL ${earlier.FunctionUrl} still serves $LATEST: delete it with aws lambda delete-function-url-config --function-name ${name}`);
    }
  }

  // Who may call the URL is the function's resource policy.
  const present = await step('GetPolicy', endpoint, async () => {
    try {
      const policy = await lambda.send(new GetPolicyCommand({ FunctionName: name, Qualifier: LIVE_ALIAS }));
      const statements = (JSON.parse(policy.Policy ?? '{}') as { Statement?: { Sid?: string }[] }).Statement ?? [];
      return new Set(statements.map((s) => s.Sid));
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException')) return new Set<string | undefined>();
      throw error;
    }
  });
  if (authType === 'NONE') {
    const wanted: AddPermissionCommandInput[] = [
      { FunctionName: name, Qualifier: LIVE_ALIAS, StatementId: URL_PERMISSIONS[0], Action: 'lambda:InvokeFunctionUrl', Principal: '*', FunctionUrlAuthType: 'NONE' },
      // Since October 2025 a public URL also needs lambda:InvokeFunction, limited to calls through the URL.
      { FunctionName: name, Qualifier: LIVE_ALIAS, StatementId: URL_PERMISSIONS[1], Action: 'lambda:InvokeFunction', Principal: '*', InvokedViaFunctionUrl: true },
    ];
    for (const permission of wanted) {
      if (present.has(permission.StatementId)) continue;
      await step(`AddPermission ${permission.Action}`, endpoint, async () => {
        try {
          await lambda.send(new AddPermissionCommand(permission));
        } catch (error) {
          if (!isAwsError(error, 'ResourceConflictException')) throw error; // already there
        }
      });
      changed = true;
    }
    if (changed) log('the Function URL is public (AuthType NONE): anyone with the URL can call it; use --url-auth iam to require signed requests');
  } else {
    for (const sid of URL_PERMISSIONS) {
      if (!present.has(sid)) continue;
      await step(`RemovePermission ${sid}`, endpoint, () => lambda.send(new RemovePermissionCommand({ FunctionName: name, Qualifier: LIVE_ALIAS, StatementId: sid })));
      changed = true;
    }
  }
  return { url: url!, changed };
}
