/**
 * spin.toml, Spin's application manifest (version 2), for one wfn function packaged as a
 * wasi:http/proxy component: one `[[trigger.http]]` on every path, the component beside it,
 * `allowed_outbound_hosts` from `[outbound] allow` (wfn took that form from Spin), and the
 * secret names as Spin variables. Written as text, each value escaped as a TOML string.
 */

export interface SpinManifestInput {
  /** The application's and the component's id (kebab-case: Spin's rule). */
  id: string;
  description: string;
  /** The component file, relative to spin.toml. */
  source: string;
  allowedOutboundHosts: string[];
  /** Names of secrets: declared as required secret variables of the application. */
  secrets: string[];
}

/** A Spin component id: lower-case letters and digits in dash-separated words. */
export const SPIN_ID = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** A name as a Spin id ("My_fn 2" -> "my-fn-2"). */
export function spinId(name: string): string {
  const id = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^[^a-z]+|-+$/g, '');
  return SPIN_ID.test(id) ? id : 'function';
}

/** Spin variable names: lower-case, digits and underscores, starting with a letter. */
export function spinVariable(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^[^a-z]+/, '') || 'secret';
}

function str(value: string): string {
  return JSON.stringify(value);
}

export function spinManifest(input: SpinManifestInput): string {
  const lines = [
    '# Written by wfn (wfn deploy --target spin): a wfn function as a Spin app.',
    '# The component is the function linked with wfn\'s wasi:http/proxy bridge (docs/targets/spin.md).',
    'spin_manifest_version = 2',
    '',
    '[application]',
    `name = ${str(input.id)}`,
    'version = "0.1.0"',
    `description = ${str(input.description)}`,
    '',
  ];
  if (input.secrets.length > 0) {
    lines.push('# Secrets: set them as Spin variables (SPIN_VARIABLE_<NAME>, or a variables provider).', '[variables]');
    for (const name of input.secrets) lines.push(`${spinVariable(name)} = { required = true, secret = true }`);
    lines.push('');
  }
  lines.push(
    '[[trigger.http]]',
    'route = "/..."',
    `component = ${str(input.id)}`,
    '',
    `[component.${input.id}]`,
    `source = ${str(input.source)}`,
    `allowed_outbound_hosts = [${input.allowedOutboundHosts.map(str).join(', ')}]`,
    '',
  );
  return lines.join('\n');
}
