/**
 * `[outbound] allow` of wfn.toml: parsing the entries and matching a URL against them.
 * Deny by default, Spin's `allowed_outbound_hosts` form: `scheme://host[:port]`, where the
 * host may start with `*.` (any subdomain, not the apex) and the port may be `*` (any port);
 * no port means the scheme's default. Platform-neutral: hosts check every redirect hop with it.
 */

export interface AllowEntry {
  scheme: 'http' | 'https';
  /** Lower-case, IDNA-normalized host; for a wildcard the part after `*.`. */
  host: string;
  /** `*.host`: any subdomain of host, not host itself. */
  anySubdomain: boolean;
  /** A port number, or '*' for any port. */
  port: number | '*';
}

const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 };

export class AllowEntryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AllowEntryError';
  }
}

/** Parses one entry; throws AllowEntryError saying what is wrong with it. */
export function parseAllowEntry(entry: string): AllowEntry {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/.exec(entry);
  if (!match) throw new AllowEntryError('it must look like "https://api.example.com" (scheme://host[:port])');
  const scheme = match[1].toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') throw new AllowEntryError(`only http and https can be allowed, not "${scheme}"`);
  let rest = match[2];
  if (/[/?#@]/.test(rest)) throw new AllowEntryError('an entry is an origin: no path, query, fragment or user (remove everything after the host and port)');
  let port: number | '*' = DEFAULT_PORTS[scheme];
  const portMatch = /:([^:\]]*)$/.exec(rest);
  if (portMatch) {
    const text = portMatch[1];
    if (text === '*') port = '*';
    else if (/^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535) port = Number(text);
    else throw new AllowEntryError(`"${text}" is not a port: use 1-65535 or "*"`);
    rest = rest.slice(0, portMatch.index);
  }
  const anySubdomain = rest.startsWith('*.');
  if (anySubdomain) rest = rest.slice(2);
  if (rest === '' || rest.includes('*')) {
    throw new AllowEntryError('"*" may only start the host ("https://*.example.com") or be the port ("http://localhost:*")');
  }
  let host: string;
  try {
    host = new URL(`${scheme}://${rest}`).hostname;
  } catch {
    throw new AllowEntryError(`"${rest}" is not a valid host name`);
  }
  return { scheme, host, anySubdomain, port };
}

/** The parsed allow list; throws AllowEntryError naming the first bad entry (the config loader reports them all). */
export class OutboundPolicy {
  readonly entries: AllowEntry[];

  constructor(readonly allow: readonly string[]) {
    this.entries = allow.map((entry) => {
      try {
        return parseAllowEntry(entry);
      } catch (error) {
        throw new AllowEntryError(`"${entry}": ${(error as Error).message}`);
      }
    });
  }

  /** True when the URL's origin is allowed. The URL must be http(s) (see `checkOutboundUrl`). */
  allows(url: URL): boolean {
    const scheme = url.protocol.slice(0, -1);
    const host = url.hostname;
    const port = url.port ? Number(url.port) : DEFAULT_PORTS[scheme];
    return this.entries.some(
      (e) =>
        e.scheme === scheme &&
        (e.port === '*' || e.port === port) &&
        (e.anySubdomain ? host.endsWith(`.${e.host}`) : host === e.host),
    );
  }
}

/** `scheme://host:port` with the port always written: what messages and log lines name. */
export function originOf(url: URL): string {
  const scheme = url.protocol.slice(0, -1);
  return `${scheme}://${url.hostname}:${url.port || DEFAULT_PORTS[scheme] || ''}`;
}

/** Parses an absolute http(s) URL; returns a sentence saying why not otherwise. */
export function checkOutboundUrl(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `"${text.length > 200 ? `${text.slice(0, 200)}...` : text}" is not an absolute URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `the scheme "${url.protocol.slice(0, -1)}" is not supported (only http and https)`;
  if (url.username || url.password) return 'credentials in the URL are not supported (send an authorization header)';
  return url;
}

const policies = new Map<string, OutboundPolicy>();

/** The parsed policy of an allow list, parsed once per list (hosts see the same few lists again and again). */
export function policyFor(allow: readonly string[]): OutboundPolicy {
  const key = allow.join('\n');
  let policy = policies.get(key);
  if (!policy) {
    policy = new OutboundPolicy(allow);
    if (policies.size >= 256) policies.clear();
    policies.set(key, policy);
  }
  return policy;
}
