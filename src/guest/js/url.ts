/**
 * URL and URLSearchParams, after the WHATWG URL Standard: special schemes (http, https, ws,
 * wss, ftp, file) with authority, default ports, dot-segment removal and the standard's
 * percent-encode sets; other schemes with an authority or an opaque path. Not covered:
 * IDNA (non-ASCII host names are only lower-cased) and IPv4 number forms other than dotted.
 */
import { utf8Decode, utf8Encode } from './encoding.js';

const SPECIAL_PORTS: Record<string, string | null> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443', 'ftp:': '21', 'file:': null };
const isSpecial = (protocol: string) => protocol in SPECIAL_PORTS;

const HEX = '0123456789ABCDEF';

/** Percent-encodes every UTF-8 byte of `s` for which `encode(byte)` is true. */
function percentEncode(s: string, encode: (byte: number) => boolean): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7e || encode(c)) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  let out = '';
  for (const b of utf8Encode(s)) out += b > 0x7e || encode(b) ? '%' + HEX[b >> 4] + HEX[b & 15] : String.fromCharCode(b);
  return out;
}

const C0 = (b: number) => b < 0x20 || b === 0x7f;
const FRAGMENT = (b: number) => C0(b) || b === 0x20 || b === 0x22 || b === 0x3c || b === 0x3e || b === 0x60;
const QUERY = (b: number) => C0(b) || b === 0x20 || b === 0x22 || b === 0x23 || b === 0x3c || b === 0x3e;
const SPECIAL_QUERY = (b: number) => QUERY(b) || b === 0x27;
const PATH = (b: number) => QUERY(b) || b === 0x3f || b === 0x60 || b === 0x7b || b === 0x7d || b === 0x5e;
const USERINFO = (b: number) =>
  PATH(b) || b === 0x2f || b === 0x3a || b === 0x3b || b === 0x3d || b === 0x40 || (b >= 0x5b && b <= 0x5d) || b === 0x7c;
/** application/x-www-form-urlencoded: everything but *-._ and alphanumerics (space is '+', handled apart). */
const FORM = (b: number) =>
  !((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2a || b === 0x2d || b === 0x2e || b === 0x5f);

/** Percent-decodes to bytes, then UTF-8 (invalid sequences become U+FFFD). */
function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  const bytes = utf8Encode(s);
  const out = new Uint8Array(bytes.length);
  let n = 0;
  const hex = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 55 : c >= 0x61 && c <= 0x66 ? c - 87 : -1);
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x25 && i + 2 < bytes.length + 0 && hex(bytes[i + 1]) >= 0 && hex(bytes[i + 2]) >= 0) {
      out[n++] = hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]);
      i += 2;
    } else out[n++] = bytes[i];
  }
  return utf8Decode(out.subarray(0, n));
}

function formEncode(s: string): string {
  return percentEncode(s, (b) => b !== 0x20 && FORM(b)).replace(/ /g, '+');
}

function formDecode(s: string): string {
  return percentDecode(s.replace(/\+/g, ' '));
}

/** Parses application/x-www-form-urlencoded text into pairs. */
export function parseForm(text: string): [string, string][] {
  const pairs: [string, string][] = [];
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    pairs.push(eq < 0 ? [formDecode(part), ''] : [formDecode(part.slice(0, eq)), formDecode(part.slice(eq + 1))]);
  }
  return pairs;
}

type SearchInit = string | URLSearchParams | Iterable<readonly [string, string]> | Record<string, string>;

export class URLSearchParams {
  #pairs: [string, string][] = [];
  /** The URL whose query this object mirrors (URL.searchParams). */
  #url: URL | null = null;

  constructor(init: SearchInit = '') {
    if (typeof init === 'string') {
      this.#pairs = parseForm(init.startsWith('?') ? init.slice(1) : init);
    } else if (init instanceof URLSearchParams) {
      this.#pairs = init.#pairs.map(([k, v]) => [k, v]);
    } else if (init && typeof (init as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const pair of init as Iterable<readonly [string, string]>) {
        const items = [...(pair as Iterable<string>)];
        if (items.length !== 2) throw new TypeError('URLSearchParams: each pair must have exactly two items');
        this.#pairs.push([String(items[0]), String(items[1])]);
      }
    } else if (init && typeof init === 'object') {
      for (const key of Object.keys(init)) this.#pairs.push([key, String((init as Record<string, string>)[key])]);
    } else if (init !== undefined && init !== null) {
      this.#pairs = parseForm(String(init));
    }
  }

  /** @internal Binds this object to a URL (both directions). */
  static attach(params: URLSearchParams, url: URL, query: string): void {
    params.#url = url;
    params.#pairs = parseForm(query);
  }

  /** @internal The URL changed its query: re-read it. */
  static reset(params: URLSearchParams, query: string): void {
    params.#pairs = parseForm(query);
  }

  #update(): void {
    if (this.#url) URL.setQueryFromParams(this.#url, this.toString());
  }

  get size(): number {
    return this.#pairs.length;
  }

  append(name: string, value: string): void {
    this.#pairs.push([String(name), String(value)]);
    this.#update();
  }

  delete(name: string, value?: string): void {
    const n = String(name);
    this.#pairs = this.#pairs.filter(([k, v]) => !(k === n && (value === undefined || v === String(value))));
    this.#update();
  }

  get(name: string): string | null {
    const n = String(name);
    const found = this.#pairs.find(([k]) => k === n);
    return found ? found[1] : null;
  }

  getAll(name: string): string[] {
    const n = String(name);
    return this.#pairs.filter(([k]) => k === n).map(([, v]) => v);
  }

  has(name: string, value?: string): boolean {
    const n = String(name);
    return this.#pairs.some(([k, v]) => k === n && (value === undefined || v === String(value)));
  }

  set(name: string, value: string): void {
    const n = String(name);
    const index = this.#pairs.findIndex(([k]) => k === n);
    if (index < 0) this.#pairs.push([n, String(value)]);
    else {
      this.#pairs[index][1] = String(value);
      this.#pairs = this.#pairs.filter(([k], i) => k !== n || i === index);
    }
    this.#update();
  }

  sort(): void {
    // Stable, by UTF-16 code units (Array.prototype.sort is stable).
    this.#pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.#update();
  }

  forEach(callback: (value: string, key: string, parent: URLSearchParams) => void, thisArg?: unknown): void {
    for (const [k, v] of this.#pairs) callback.call(thisArg, v, k, this);
  }

  *entries(): IterableIterator<[string, string]> {
    for (const [k, v] of this.#pairs) yield [k, v];
  }

  *keys(): IterableIterator<string> {
    for (const [k] of this.#pairs) yield k;
  }

  *values(): IterableIterator<string> {
    for (const [, v] of this.#pairs) yield v;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  toString(): string {
    return this.#pairs.map(([k, v]) => `${formEncode(k)}=${formEncode(v)}`).join('&');
  }

  get [Symbol.toStringTag](): string {
    return 'URLSearchParams';
  }
}

interface UrlRecord {
  protocol: string;
  username: string;
  password: string;
  hostname: string;
  port: string;
  /** Path segments (hierarchical) or the opaque path string. */
  path: string[] | string;
  /** Without '?'; null when absent. */
  query: string | null;
  /** Without '#'; null when absent. */
  fragment: string | null;
  /** Whether the URL has an authority ("//..."). */
  hasAuthority: boolean;
}

function invalid(input: string): TypeError {
  return new TypeError(`Invalid URL: ${input}`);
}

const FORBIDDEN_HOST = /[\u0000\t\n\r #/:<>?@[\\\]^|%]/;

function parseHost(raw: string, special: boolean, input: string): string {
  if (raw.startsWith('[')) {
    if (!raw.endsWith(']') || !/^\[[0-9a-fA-F:.]+\]$/.test(raw)) throw invalid(input);
    return raw.toLowerCase();
  }
  const host = special ? percentDecode(raw).toLowerCase() : raw;
  if (special ? FORBIDDEN_HOST.test(host) : /[\u0000\t\n\r #/:<>?@[\\\]^|]/.test(host)) throw invalid(input);
  if (!special) return percentEncode(host, C0);
  return host;
}

/** Removes dot segments (also percent-encoded ones) and percent-encodes each segment. */
function normalizePath(segments: string[]): string[] {
  const out: string[] = [];
  const last = segments.length - 1;
  segments.forEach((seg, i) => {
    const lower = seg.toLowerCase();
    const isDot = lower === '.' || lower === '%2e';
    const isDotDot = lower === '..' || lower === '.%2e' || lower === '%2e.' || lower === '%2e%2e';
    if (isDotDot) {
      if (out.length) out.pop();
      if (i === last) out.push('');
    } else if (isDot) {
      if (i === last) out.push('');
    } else {
      out.push(percentEncode(seg, PATH));
    }
  });
  return out;
}

function splitPath(path: string, special: boolean): string[] {
  const p = special ? path.replace(/\\/g, '/') : path;
  return p.split('/');
}

/** Splits off "#fragment" and "?query". */
function splitTail(rest: string): { head: string; query: string | null; fragment: string | null } {
  let fragment: string | null = null;
  const hashAt = rest.indexOf('#');
  if (hashAt >= 0) {
    fragment = rest.slice(hashAt + 1);
    rest = rest.slice(0, hashAt);
  }
  let query: string | null = null;
  const queryAt = rest.indexOf('?');
  if (queryAt >= 0) {
    query = rest.slice(queryAt + 1);
    rest = rest.slice(0, queryAt);
  }
  return { head: rest, query, fragment };
}

function encodeQuery(query: string | null, special: boolean): string | null {
  return query === null ? null : percentEncode(query, special ? SPECIAL_QUERY : QUERY);
}

function encodeFragment(fragment: string | null): string | null {
  return fragment === null ? null : percentEncode(fragment, FRAGMENT);
}

/** Parses "//authority/path" (the part after "scheme:"). */
function parseAuthority(rest: string, protocol: string, input: string): UrlRecord {
  const special = isSpecial(protocol);
  const body = rest.replace(protocol === 'file:' ? /^[/\\]{2}/ : special ? /^[/\\]*/ : /^\/\//, '');
  const end = body.search(special ? /[/\\?#]/ : /[/?#]/);
  const authority = end < 0 ? body : body.slice(0, end);
  const after = end < 0 ? '' : body.slice(end);
  let username = '';
  let password = '';
  let hostPort = authority;
  const at = authority.lastIndexOf('@');
  if (at >= 0) {
    const userinfo = authority.slice(0, at);
    hostPort = authority.slice(at + 1);
    const colon = userinfo.indexOf(':');
    username = percentEncode(colon < 0 ? userinfo : userinfo.slice(0, colon), USERINFO);
    password = colon < 0 ? '' : percentEncode(userinfo.slice(colon + 1), USERINFO);
  }
  let port = '';
  const portMatch = /:(\d*)$/.exec(hostPort);
  if (portMatch && !hostPort.endsWith(']')) {
    hostPort = hostPort.slice(0, portMatch.index);
    if (portMatch[1] !== '') {
      const n = Number(portMatch[1]);
      if (n > 65535) throw invalid(input);
      port = String(n) === SPECIAL_PORTS[protocol] ? '' : String(n);
    }
  } else if (/:[^\]]*$/.test(hostPort) && !hostPort.startsWith('[')) {
    throw invalid(input);
  }
  const hostname = protocol === 'file:' && hostPort.toLowerCase() === 'localhost' ? '' : parseHost(hostPort, special && protocol !== 'file:', input);
  if (special && protocol !== 'file:' && hostname === '') throw invalid(input);
  const { head, query, fragment } = splitTail(after);
  const segments = head === '' ? (special ? [''] : []) : splitPath(head.slice(1), special);
  return {
    protocol,
    username,
    password,
    hostname,
    port,
    path: head === '' && !special ? [] : normalizePath(segments),
    query: encodeQuery(query, special),
    fragment: encodeFragment(fragment),
    hasAuthority: true,
  };
}

function parse(input: string, base?: UrlRecord): UrlRecord {
  // Leading/trailing C0 controls and spaces are stripped; tabs and newlines removed anywhere.
  const text = input.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '').replace(/[\t\n\r]/g, '');
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(text);
  if (scheme) {
    const protocol = scheme[1].toLowerCase() + ':';
    const rest = text.slice(scheme[0].length);
    const special = isSpecial(protocol);
    if (protocol === 'file:') {
      // file: has an authority only after exactly "//" ("file:///tmp/x" has an empty host).
      if (/^[/\\]{2}/.test(rest)) return parseAuthority(rest, protocol, input);
      const { head, query, fragment } = splitTail(rest);
      return {
        protocol, username: '', password: '', hostname: '', port: '', hasAuthority: true,
        path: normalizePath(splitPath(head.replace(/^[/\\]/, ''), true)), query: encodeQuery(query, true), fragment: encodeFragment(fragment),
      };
    }
    if (special) {
      // "http:foo" relative to an http base keeps the base's authority.
      if (base && base.protocol === protocol && !/^[/\\]/.test(rest)) return parseRelative(rest, base, input);
      return parseAuthority(rest, protocol, input);
    }
    if (rest.startsWith('//')) return parseAuthority(rest, protocol, input);
    const { head, query, fragment } = splitTail(rest);
    if (head.startsWith('/')) {
      return {
        protocol, username: '', password: '', hostname: '', port: '', hasAuthority: false,
        path: normalizePath(splitPath(head.slice(1), false)), query: encodeQuery(query, false), fragment: encodeFragment(fragment),
      };
    }
    return {
      protocol, username: '', password: '', hostname: '', port: '', hasAuthority: false,
      path: percentEncode(head, C0), query: encodeQuery(query, false), fragment: encodeFragment(fragment),
    };
  }
  if (!base) throw invalid(input);
  return parseRelative(text, base, input);
}

function parseRelative(text: string, base: UrlRecord, input: string): UrlRecord {
  const special = isSpecial(base.protocol);
  if (typeof base.path === 'string') {
    // A base with an opaque path (mailto:, data:) only takes a fragment.
    if (!text.startsWith('#')) throw invalid(input);
    return { ...base, fragment: encodeFragment(text.slice(1)) };
  }
  if (special ? /^[/\\]{2}/.test(text) : text.startsWith('//')) return parseAuthority(text, base.protocol, input);
  const { head, query, fragment } = splitTail(text);
  const common = { ...base, query: encodeQuery(query, special), fragment: encodeFragment(fragment) };
  if (head === '') {
    // "?q" keeps the path; "#f" keeps path and query.
    if (query === null) return { ...common, query: base.query };
    return common;
  }
  if (special ? /^[/\\]/.test(head) : head.startsWith('/')) {
    return { ...common, path: normalizePath(splitPath(head.slice(1), special)) };
  }
  const dir = base.path.slice(0, -1);
  return { ...common, path: normalizePath([...dir, ...splitPath(head, special)]) };
}

function serializePath(r: UrlRecord): string {
  if (typeof r.path === 'string') return r.path;
  const path = r.path.map((s) => '/' + s).join('');
  // "/.//x" guards a path starting with "//" when there is no authority.
  return !r.hasAuthority && r.path.length > 1 && r.path[0] === '' ? '/.' + path : path;
}

function serialize(r: UrlRecord, excludeFragment = false): string {
  let out = r.protocol;
  if (r.hasAuthority) {
    out += '//';
    if (r.username || r.password) out += r.username + (r.password ? ':' + r.password : '') + '@';
    out += r.hostname + (r.port ? ':' + r.port : '');
  }
  out += serializePath(r);
  if (r.query !== null) out += '?' + r.query;
  if (!excludeFragment && r.fragment !== null) out += '#' + r.fragment;
  return out;
}

export class URL {
  #r: UrlRecord;
  #params: URLSearchParams;

  constructor(url: string | URL, base?: string | URL) {
    const baseRecord = base === undefined ? undefined : parse(String(base));
    this.#r = parse(String(url), baseRecord);
    this.#params = new URLSearchParams();
    URLSearchParams.attach(this.#params, this, this.#r.query ?? '');
  }

  static canParse(url: string, base?: string): boolean {
    try {
      new URL(url, base);
      return true;
    } catch {
      return false;
    }
  }

  static parse(url: string, base?: string): URL | null {
    try {
      return new URL(url, base);
    } catch {
      return null;
    }
  }

  /** @internal URLSearchParams changed: write its serialization back as the query. */
  static setQueryFromParams(url: URL, query: string): void {
    url.#r.query = query === '' ? null : query;
  }

  get href(): string {
    return serialize(this.#r);
  }

  set href(value: string) {
    this.#r = parse(String(value));
    URLSearchParams.reset(this.#params, this.#r.query ?? '');
  }

  get origin(): string {
    const r = this.#r;
    if (r.protocol === 'blob:' && typeof r.path === 'string') {
      try {
        return new URL(r.path).origin;
      } catch {
        return 'null';
      }
    }
    if (!isSpecial(r.protocol) || r.protocol === 'file:') return 'null';
    return `${r.protocol}//${r.hostname}${r.port ? ':' + r.port : ''}`;
  }

  get protocol(): string {
    return this.#r.protocol;
  }

  set protocol(value: string) {
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):?/.exec(String(value));
    if (!m) return;
    const protocol = m[1].toLowerCase() + ':';
    if (isSpecial(protocol) !== isSpecial(this.#r.protocol)) return;
    this.#r.protocol = protocol;
    if (this.#r.port === SPECIAL_PORTS[protocol]) this.#r.port = '';
  }

  get username(): string {
    return this.#r.username;
  }

  set username(value: string) {
    if (this.#r.hasAuthority && this.#r.hostname) this.#r.username = percentEncode(String(value), USERINFO);
  }

  get password(): string {
    return this.#r.password;
  }

  set password(value: string) {
    if (this.#r.hasAuthority && this.#r.hostname) this.#r.password = percentEncode(String(value), USERINFO);
  }

  get host(): string {
    return this.#r.hostname + (this.#r.port ? ':' + this.#r.port : '');
  }

  set host(value: string) {
    if (typeof this.#r.path === 'string') return;
    try {
      const r = parseAuthority('//' + String(value), this.#r.protocol, String(value));
      this.#r.hostname = r.hostname;
      if (/:\d+$/.test(String(value))) this.#r.port = r.port;
    } catch {
      // Invalid hosts are ignored, as the standard's setter does.
    }
  }

  get hostname(): string {
    return this.#r.hostname;
  }

  set hostname(value: string) {
    if (typeof this.#r.path === 'string') return;
    try {
      this.#r.hostname = parseAuthority('//' + String(value).replace(/:.*$/, ''), this.#r.protocol, String(value)).hostname;
    } catch {
      // ignored
    }
  }

  get port(): string {
    return this.#r.port;
  }

  set port(value: string) {
    const digits = /^\d*/.exec(String(value))![0];
    if (digits === '') {
      if (String(value) === '') this.#r.port = '';
      return;
    }
    const n = Number(digits);
    if (n > 65535) return;
    this.#r.port = String(n) === SPECIAL_PORTS[this.#r.protocol] ? '' : String(n);
  }

  get pathname(): string {
    return serializePath(this.#r);
  }

  set pathname(value: string) {
    if (typeof this.#r.path === 'string') return;
    const special = isSpecial(this.#r.protocol);
    const v = String(value);
    const body = special ? v.replace(/^[/\\]/, '') : v.replace(/^\//, '');
    this.#r.path = normalizePath(splitPath(body, special));
  }

  get search(): string {
    return this.#r.query ? '?' + this.#r.query : '';
  }

  set search(value: string) {
    const v = String(value);
    const q = v.startsWith('?') ? v.slice(1) : v;
    this.#r.query = v === '' ? null : encodeQuery(q, isSpecial(this.#r.protocol));
    URLSearchParams.reset(this.#params, this.#r.query ?? '');
  }

  get searchParams(): URLSearchParams {
    return this.#params;
  }

  get hash(): string {
    return this.#r.fragment ? '#' + this.#r.fragment : '';
  }

  set hash(value: string) {
    const v = String(value);
    this.#r.fragment = v === '' ? null : encodeFragment(v.startsWith('#') ? v.slice(1) : v);
  }

  toString(): string {
    return this.href;
  }

  toJSON(): string {
    return this.href;
  }

  get [Symbol.toStringTag](): string {
    return 'URL';
  }
}
