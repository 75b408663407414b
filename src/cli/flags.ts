/** Flags several commands share: the limits (--timeout, --memory) and where to listen (--port, --host). */
import { Flags } from '@oclif/core';
import { TARGETS } from '../../adapters/index.js';

/** --timeout and --memory, shared by run, dev and serve. */
export const limitFlags = {
  timeout: Flags.integer({ description: 'Wall-clock timeout per request, ms (default: wfn.toml, else 10000).', min: 1 }),
  memory: Flags.integer({ description: 'Memory cap, MiB (default: wfn.toml, else 128).', min: 1, max: 4096 }),
};

export const listenFlags = {
  port: Flags.integer({ char: 'p', description: 'Port to listen on.', default: 8080, min: 0, max: 65535 }),
  host: Flags.string({ description: 'Address to listen on.', default: '127.0.0.1' }),
};

/**
 * Where a deployed function lives: the flags `deploy` and the operating commands (logs, ls,
 * versions, rollback, rm) share, so `wfn logs` finds what `wfn deploy` put there.
 */
export const locationFlags = {
  url: Flags.string({ description: 'self-hosted: the wfn serve base URL (default: $WFN_URL).' }),
  'service-id': Flags.string({ description: 'fastly: the service (default: the one wfn deploy created for this project; deploy creates one when there is none).' }),
};

/** The flags only `deploy` takes. */
export const deployOnlyFlags = {
  role: Flags.string({ description: 'lambda: execution role ARN (default: create or reuse a minimal one).' }),
  'url-auth': Flags.string({ description: 'lambda: Function URL auth.', options: ['none', 'iam'], default: 'none' }),
  domain: Flags.string({ description: 'fastly: the domain of a new service (default: <name>-<random>.edgecompute.app).' }),
  registry: Flags.string({ description: 'spin: push to this OCI registry reference, host/name[:tag] (token from WFN_REGISTRY_TOKEN).' }),
};

/** The target-specific flags as adapters read them (DeployOptions.flags, OperateOptions.flags). */
export function targetFlagValues(flags: { url?: string; 'service-id'?: string; role?: string; 'url-auth'?: string; domain?: string; registry?: string }): Record<string, unknown> {
  return { url: flags.url, serviceId: flags['service-id'], role: flags.role, urlAuth: flags['url-auth'], domain: flags.domain, registry: flags.registry };
}

/** --target of the operating commands (default: $WFN_TARGET). */
export const operateTargetFlag = {
  target: Flags.string({ char: 't', required: true, options: TARGETS, env: 'WFN_TARGET', description: 'The platform the function is deployed on (default: $WFN_TARGET).' }),
};

/** --name of the operating commands: as deploy names the function. */
export const operateNameFlag = {
  name: Flags.string({ description: 'Function name on the target (default: wfn.toml name, as deploy names it).' }),
};
