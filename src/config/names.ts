/**
 * The rules for what users name: functions and variables. One rule each, checked the same way
 * by wfn.toml, the CLI (before any file operation) and `wfn serve`'s admin API, because a name
 * becomes a path segment, a file name and a key of the function's environment.
 */

import { UserError } from '../util/errors.js';

/** A function name: the first segment of its URL on `wfn serve`, and a file/folder name everywhere. */
export const FUNCTION_NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
export const FUNCTION_NAME_RULE = 'use lower-case letters, digits and "-", starting with a letter (at most 63 characters)';

/** Undefined when `name` is a valid function name, else the message that says why not. */
export function functionNameProblem(name: string): string | undefined {
  return FUNCTION_NAME_PATTERN.test(name) ? undefined : `invalid function name ${JSON.stringify(name)}: ${FUNCTION_NAME_RULE}`;
}

/** Throws a UserError for an invalid function name; `source` says where it came from (e.g. "--name"). */
export function assertFunctionName(name: string, source: string): void {
  const problem = functionNameProblem(name);
  if (problem) throw new UserError(`${source}: ${problem}.`, 'A wfn function has the same name on every target (--name N, or name in wfn.toml).');
}

/** A variable name a CGI environment carries (as HTTP_* and the built-ins are). */
export const VARIABLE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Names every JavaScript object already has (`__proto__`, `constructor`, ...): as keys of a
 * plain object they are silently dropped or read as something that was never set.
 */
const OBJECT_KEYS = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Undefined when the variable can be handed to a function as it is, else the message that says why not. */
export function variableProblem(name: string, value: string): string | undefined {
  const what = `variable ${JSON.stringify(name)}`;
  if (!VARIABLE_NAME_PATTERN.test(name)) return `invalid ${what}: a name is letters, digits and "_", not starting with a digit`;
  if (OBJECT_KEYS.has(name)) return `invalid ${what}: the name is reserved (every JavaScript object has a property of that name)`;
  // The environment is a list of NUL-terminated UTF-8 strings (WASI, and every OS).
  if (value.includes('\0')) return `${what} has a NUL character in its value, which no environment can carry`;
  if (LONE_SURROGATE.test(value)) return `${what} has an unpaired UTF-16 surrogate in its value, which UTF-8 cannot carry`;
  return undefined;
}

/**
 * Undefined when `name` can be a key-value store name, else why not. A store is also the
 * JavaScript binding `env.<name>`, so it must not be a name every object has, nor one of the
 * function's variables (`env.<name>` would be both).
 */
export function storeNameProblem(name: string, variables: string[]): string | undefined {
  if (OBJECT_KEYS.has(name)) return 'the name is reserved (every JavaScript object has a property of that name)';
  if (variables.includes(name)) return 'it is also the name of a variable ([env] or secrets), and in JavaScript both would be env.' + name;
  return undefined;
}
