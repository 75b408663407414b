/**
 * The header block of the outbound API: `name: value\n` lines, a name may repeat, no CR.
 * Bytes map 1:1 to characters (latin1), as HTTP header values are bytes: what the guest
 * writes is what goes on the wire, and the host's header strings (fetch's ByteStrings)
 * come back as the same bytes.
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Headers the host owns on an outbound request (fetch sets or refuses them): the guest's are
 * dropped. `host` comes from the URL and `content-length` from the body.
 */
export const HOST_OWNED_HEADERS = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-connection']);

export class HeaderLineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeaderLineError';
  }
}

function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

/** `name: value\n` lines -> pairs with lower-case names; throws HeaderLineError on a bad line. */
export function decodeHeaderLines(bytes: Uint8Array): [string, string][] {
  const text = latin1(bytes);
  const pairs: [string, string][] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (const [i, line] of lines.entries()) {
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    if (!TOKEN.test(name)) throw new HeaderLineError(`header line ${i + 1} has no valid name before ":"`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (/[\r\0]/.test(value)) throw new HeaderLineError(`header "${name}" holds a CR or NUL byte`);
    pairs.push([name.toLowerCase(), value]);
  }
  return pairs;
}

/** Pairs -> `name: value\n` lines (names lower-cased; values' characters are bytes). */
export function encodeHeaderLines(pairs: readonly [string, string][]): Uint8Array {
  const text = pairs.map(([name, value]) => `${name.toLowerCase()}: ${value}\n`).join('');
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** The guest's request headers without the ones the host owns. */
export function withoutHostOwnedHeaders(pairs: [string, string][]): [string, string][] {
  return pairs.filter(([name]) => !HOST_OWNED_HEADERS.has(name));
}
