/** wfn's limits and names -> what Lambda accepts, checked before anything is uploaded. */
import type { Limits } from '../../src/config/types.js';
import { UserError } from '../../src/util/errors.js';

/**
 * Lambda's MemorySize covers the whole sandbox (Node.js, the compiled code, the function's
 * linear memory), so it gets headroom above the function's cap; more memory also buys CPU.
 */
export const NODE_HEADROOM_MIB = 128;
const MIN_MEMORY = 128;
const MAX_MEMORY = 10240;
const MAX_TIMEOUT_S = 900;
/** Lambda's limit on the environment variables of a function (keys + values). */
export const ENV_LIMIT_BYTES = 4096;
/** CreateFunction / UpdateFunctionCode take the zip inline up to this size (larger needs S3). */
export const INLINE_ZIP_LIMIT = 50 * 1024 * 1024;
/** Lambda's limit on a deployment package once unzipped (the code and every file in it). */
export const UNZIPPED_LIMIT = 250 * 1024 * 1024;

/** Names Lambda reserves (it refuses them as function variables). */
const RESERVED = new Set([
  '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
]);

export interface LambdaSettings {
  memorySize: number;
  timeoutSeconds: number;
  warnings: string[];
}

export function lambdaSettings(limits: Limits): LambdaSettings {
  const warnings: string[] = [];
  const memorySize = Math.max(MIN_MEMORY, Math.ceil(limits.memoryMiB) + NODE_HEADROOM_MIB);
  if (memorySize > MAX_MEMORY) {
    throw new UserError(
      `A ${limits.memoryMiB} MiB memory limit needs a ${memorySize} MB Lambda (the function's memory + ${NODE_HEADROOM_MIB} MB for Node.js), over Lambda's ${MAX_MEMORY} MB.`,
      `Lower [limits] memory in wfn.toml or --memory to at most ${MAX_MEMORY - NODE_HEADROOM_MIB}.`,
    );
  }
  const timeoutSeconds = Math.max(1, Math.ceil(limits.timeoutMs / 1000));
  if (timeoutSeconds > MAX_TIMEOUT_S) {
    throw new UserError(`A ${limits.timeoutMs} ms timeout is over Lambda's ${MAX_TIMEOUT_S} s.`, `Lower [limits] timeout in wfn.toml or --timeout to at most ${MAX_TIMEOUT_S * 1000}.`);
  }
  if (timeoutSeconds * 1000 !== limits.timeoutMs) warnings.push(`Lambda timeouts are whole seconds: ${limits.timeoutMs} ms becomes ${timeoutSeconds} s`);
  return { memorySize, timeoutSeconds, warnings };
}

export function checkFunctionName(name: string): void {
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(name)) {
    throw new UserError(`"${name}" is not a valid Lambda function name (1-64 letters, digits, "-" or "_").`, 'Pass another one with --name.');
  }
}

export function checkVariableNames(names: string[]): void {
  for (const name of names) {
    if (!/^[a-zA-Z][a-zA-Z0-9_]+$/.test(name)) {
      throw new UserError(`Lambda refuses the variable name "${name}": names start with a letter, have at least two characters, and use only letters, digits and "_".`, 'Rename it in wfn.toml [env] / secrets or --env.');
    }
    if (RESERVED.has(name)) throw new UserError(`"${name}" is reserved by Lambda and cannot be a function variable.`, 'Rename it in wfn.toml [env] / secrets or --env.');
  }
}

/** Bytes Lambda counts for the variables (keys + values). */
export function variablesSize(vars: Record<string, string>): number {
  let size = 0;
  for (const [k, v] of Object.entries(vars)) size += Buffer.byteLength(k) + Buffer.byteLength(v);
  return size;
}
