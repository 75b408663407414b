/**
 * Pushes a Spin package to an OCI registry in the layout `spin registry push` produces (Spin's
 * crates/oci): one layer per component (`application/vnd.wasm.content.layer.v1+wasm`), the
 * locked application (spin.lock JSON, sources replaced by their layers' digests) as a layer of
 * `application/vnd.fermyon.spin.application.v1+config`, and an OCI image config (wasm /
 * Wasip1, labelled with the locked app's digest) that SpinKube's shim reads. Over the OCI
 * distribution API: blob uploads (POST, then PUT ?digest=), skipped when HEAD finds the blob,
 * then the manifest (PUT). The token comes from the environment (WFN_REGISTRY_TOKEN), never a file.
 */
import { createHash } from 'node:crypto';
import { UserError } from '../../src/util/errors.js';

export const SPIN_APPLICATION_MEDIA_TYPE = 'application/vnd.fermyon.spin.application.v1+config';
export const WASM_LAYER_MEDIA_TYPE = 'application/vnd.wasm.content.layer.v1+wasm';
export const OCI_CONFIG_MEDIA_TYPE = 'application/vnd.oci.image.config.v1+json';
export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';

export interface Blob {
  mediaType: string;
  bytes: Uint8Array;
  digest: string;
}

export interface SpinArtifact {
  layers: Blob[];
  config: Blob;
  manifest: Uint8Array;
  lockedApp: Record<string, unknown>;
}

export interface RegistryRef {
  /** http or https base URL of the registry. */
  base: string;
  name: string;
  tag: string;
}

function blob(mediaType: string, bytes: Uint8Array): Blob {
  return { mediaType, bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

const NAME = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * `[http://|https://]host[:port]/name[:tag]`. Without a scheme: http for loopback, https otherwise.
 */
export function parseRegistryRef(text: string): RegistryRef {
  const bad = (why: string) => new UserError(`--registry ${JSON.stringify(text)} is not a registry reference: ${why}.`, 'Use host[:port]/name[:tag], e.g. ghcr.io/you/hello:v1.');
  const scheme = /^(https?):\/\//.exec(text)?.[1];
  const rest = scheme ? text.slice(scheme.length + 3) : text;
  const slash = rest.indexOf('/');
  if (slash <= 0) throw bad('no registry host');
  const host = rest.slice(0, slash);
  if (!/^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/.test(host) && !/^\[[0-9a-fA-F:]+\](:[0-9]{1,5})?$/.test(host)) throw bad('the host is not host[:port]');
  let name = rest.slice(slash + 1);
  let tag = 'latest';
  const colon = name.lastIndexOf(':');
  if (colon >= 0) {
    tag = name.slice(colon + 1);
    name = name.slice(0, colon);
  }
  if (!NAME.test(name)) throw bad('the repository name must be lower-case path components');
  if (!TAG.test(tag)) throw bad('the tag must be letters, digits, "_", "." or "-"');
  const loopback = /^(localhost|127\.[0-9.]+|\[::1\])(:|$)/.test(host);
  return { base: `${scheme ?? (loopback ? 'http' : 'https')}://${host}`, name, tag };
}

export interface SpinAppInput {
  id: string;
  component: Uint8Array;
  allowedOutboundHosts: string[];
  secrets: string[];
  description: string;
}

/** The blobs and manifest `spin registry push` would write for this app. */
export function spinArtifact(app: SpinAppInput, variableName: (secret: string) => string): SpinArtifact {
  const wasm = blob(WASM_LAYER_MEDIA_TYPE, app.component);
  const variables = Object.fromEntries(app.secrets.map((s) => [variableName(s), { secret: true }]));
  const lockedApp: Record<string, unknown> = {
    spin_lock_version: 0,
    metadata: { name: app.id, version: '0.1.0', description: app.description, trigger: { type: 'http' } },
    ...(app.secrets.length > 0 ? { variables } : {}),
    triggers: [{ id: `trigger--${app.id}`, trigger_type: 'http', trigger_config: { route: '/...', component: app.id } }],
    components: [
      {
        id: app.id,
        metadata: { allowed_outbound_hosts: app.allowedOutboundHosts },
        source: { content_type: 'application/wasm', digest: wasm.digest },
      },
    ],
  };
  const locked = blob(SPIN_APPLICATION_MEDIA_TYPE, new TextEncoder().encode(JSON.stringify(lockedApp)));
  const layers = [wasm, locked];
  const config = blob(OCI_CONFIG_MEDIA_TYPE, new TextEncoder().encode(JSON.stringify({
    architecture: 'wasm',
    os: 'Wasip1',
    config: { Labels: { 'com.fermyon.spin.lockedAppDigest': locked.digest } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
  })));
  const descriptor = (b: Blob) => ({ mediaType: b.mediaType, digest: b.digest, size: b.bytes.length });
  const manifest = new TextEncoder().encode(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    config: descriptor(config),
    layers: layers.map(descriptor),
    annotations: { 'org.opencontainers.image.title': app.id, 'org.opencontainers.image.version': '0.1.0', 'org.opencontainers.image.description': app.description },
  }));
  return { layers, config, manifest, lockedApp };
}

export interface PushOptions {
  /** WFN_REGISTRY_TOKEN: sent as a bearer token (never logged). */
  token?: string;
  log(message: string): void;
}

async function call(url: string, init: RequestInit, token: string | undefined, what: string): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  let res: Response;
  try {
    res = await fetch(url, { ...init, headers, redirect: 'manual' });
  } catch (error) {
    throw new UserError(`The registry could not be reached (${what}): ${(error as Error).message}.`);
  }
  return res;
}

async function failed(res: Response, what: string): Promise<never> {
  const text = (await res.text().catch(() => '')).slice(0, 300);
  const hint = res.status === 401 || res.status === 403 ? 'Set WFN_REGISTRY_TOKEN to a token with push rights for this repository.' : undefined;
  throw new UserError(`The registry refused ${what}: ${res.status} ${text}`.trim(), hint);
}

/** Pushes the artifact; returns the manifest's digest. */
export async function pushSpinArtifact(ref: RegistryRef, artifact: SpinArtifact, options: PushOptions): Promise<string> {
  const v2 = `${ref.base}/v2/${ref.name}`;
  for (const b of [...artifact.layers, artifact.config]) {
    const head = await call(`${v2}/blobs/${b.digest}`, { method: 'HEAD' }, options.token, `HEAD of ${b.digest}`);
    if (head.status === 200) {
      options.log(`spin: ${b.digest.slice(0, 19)} already in ${ref.name}`);
      continue;
    }
    const start = await call(`${v2}/blobs/uploads/`, { method: 'POST' }, options.token, 'a blob upload');
    if (start.status !== 202) await failed(start, 'a blob upload');
    const location = start.headers.get('location');
    if (!location) throw new UserError('The registry started a blob upload without a Location header.');
    const target = new URL(location, `${ref.base}/`);
    if (target.origin !== new URL(ref.base).origin) throw new UserError(`The registry sent the upload to another origin (${target.origin}): not followed.`);
    target.searchParams.set('digest', b.digest);
    const put = await call(target.href, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: b.bytes as BodyInit }, options.token, `the blob ${b.digest}`);
    if (put.status !== 201) await failed(put, `the blob ${b.digest}`);
    options.log(`spin: pushed ${b.mediaType} ${b.digest.slice(0, 19)} (${b.bytes.length} B)`);
  }
  const put = await call(`${v2}/manifests/${ref.tag}`, { method: 'PUT', headers: { 'content-type': OCI_MANIFEST_MEDIA_TYPE }, body: artifact.manifest as BodyInit }, options.token, 'the manifest');
  if (put.status !== 201) await failed(put, 'the manifest');
  return put.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(artifact.manifest).digest('hex')}`;
}
