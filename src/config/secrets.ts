/**
 * Secrets at run time: wfn.toml names them (`secrets = [...]`), the environment of the shell
 * that runs `wfn dev` / `wfn run` (or an emulator) gives the values. Values are never logged:
 * messages name the secrets only.
 */

export interface SecretValues {
  values: Record<string, string>;
  /** Names without a value in the environment (the function does not see them). */
  missing: string[];
}

export function secretValues(names: readonly string[], env: NodeJS.ProcessEnv): SecretValues {
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const name of names) {
    const value = env[name];
    if (value === undefined) missing.push(name);
    else values[name] = value;
  }
  return { values, missing };
}

/** The warning for secrets the environment does not set. */
export function missingSecretsMessage(missing: readonly string[]): string {
  return `secret${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not set in this shell: the function will not see ${missing.length > 1 ? 'them' : 'it'} (export ${missing[0]}=... first)`;
}
