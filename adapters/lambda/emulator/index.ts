/** Runs the very zip deploy would upload: extract it, then serve it through the local gateway. */
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Bundle, EmulateOptions, Emulator } from '../../../src/target/types.js';
import { UserError } from '../../../src/util/errors.js';
import { lambdaSettings } from '../limits.js';
import { missingSecretsMessage, secretValues } from '../../../src/config/secrets.js';
import { HANDLER, HANDLER_FILE, KV_HELPER_FILE } from '../package-config.js';
import { readZip } from '../zip.js';
import { startGateway } from './gateway.js';

export interface LambdaEmulateOptions extends EmulateOptions {
  maxSandboxes?: number;
  /** Process environment to read secrets from (default process.env). */
  processEnv?: NodeJS.ProcessEnv;
}

/** Unzips into a fresh folder (the sandbox's /var/task); refuses paths that leave it. */
export async function extractPackage(zipFile: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wfn-lambda-task-'));
  for (const [name, data] of Object.entries(readZip(await readFile(zipFile)))) {
    const target = path.resolve(dir, name);
    if (!target.startsWith(dir + path.sep)) throw new UserError(`${zipFile} holds a path outside the package: ${name}`);
    if (name.endsWith('/')) continue;
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, data);
  }
  return dir;
}

/** What Lambda's runtime sets for a function's SDK calls, passed through to the emulated sandbox. */
const AWS_VARIABLES = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_DYNAMODB'];

export async function emulateLambda(bundle: Bundle, options: LambdaEmulateOptions): Promise<Emulator> {
  if (!bundle.archive) throw new Error('the Lambda bundle has no zip');
  const taskDir = await extractPackage(bundle.archive);
  const { artifact } = bundle;
  const settings = lambdaSettings(artifact.limits);
  const processEnv = options.processEnv ?? process.env;
  const secrets = secretValues(artifact.secrets, processEnv);
  if (secrets.missing.length > 0) options.log(`lambda: ${missingSecretsMessage(secrets.missing)}`);
  const env: Record<string, string> = { ...artifact.env, ...secrets.values };
  // Lambda hands a function its role's credentials and region in the environment: a function with
  // key-value stores gets this shell's, so its helper reaches DynamoDB (AWS_ENDPOINT_URL_DYNAMODB: a local one).
  if (bundle.files.some((f) => f.path === KV_HELPER_FILE)) {
    for (const name of AWS_VARIABLES) if (processEnv[name] !== undefined) env[name] = processEnv[name]!;
    env.AWS_REGION ??= 'us-east-1';
  }
  try {
    const gateway = await startGateway({
      host: options.host,
      port: options.port,
      log: options.log,
      handlerFile: path.join(taskDir, HANDLER_FILE),
      handlerExport: HANDLER.split('.')[1],
      functionName: bundle.name,
      memorySize: settings.memorySize,
      timeoutMs: settings.timeoutSeconds * 1000,
      env,
      region: processEnv.AWS_REGION ?? processEnv.AWS_DEFAULT_REGION,
      maxSandboxes: options.maxSandboxes,
    });
    return {
      url: gateway.url,
      async close() {
        await gateway.close();
        await rm(taskDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(taskDir, { recursive: true, force: true });
    throw error;
  }
}
