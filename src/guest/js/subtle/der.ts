/**
 * The little DER (ASN.1) that WebCrypto's "spki" and "pkcs8" formats need: read a TLV, its
 * children, and write them back. wfn's own code: asn1js and @peculiar/asn1-schema are
 * 100+ KB for what is ~60 lines here.
 */
import { dataError } from './errors.js';

export interface Node {
  tag: number;
  /** The content octets. */
  value: Uint8Array;
}

export const SEQUENCE = 0x30;
export const INTEGER = 0x02;
export const BIT_STRING = 0x03;
export const OCTET_STRING = 0x04;
export const NULL = 0x05;
export const OID = 0x06;

/** One TLV at `at`; returns it and where the next one starts. */
function readOne(bytes: Uint8Array, at: number): { node: Node; next: number } {
  if (at + 2 > bytes.length) throw dataError('truncated DER');
  const tag = bytes[at];
  let len = bytes[at + 1];
  let start = at + 2;
  if (len & 0x80) {
    const count = len & 0x7f;
    if (count === 0 || count > 4 || start + count > bytes.length) throw dataError('invalid DER length');
    len = 0;
    for (let i = 0; i < count; i++) len = len * 256 + bytes[start + i];
    start += count;
  }
  if (start + len > bytes.length) throw dataError('truncated DER');
  return { node: { tag, value: bytes.subarray(start, start + len) }, next: start + len };
}

/** The single TLV that makes up `bytes` (trailing bytes are an error). */
export function parse(bytes: Uint8Array): Node {
  const { node, next } = readOne(bytes, 0);
  if (next !== bytes.length) throw dataError('trailing bytes after DER');
  return node;
}

export function children(node: Node): Node[] {
  const out: Node[] = [];
  for (let at = 0; at < node.value.length; ) {
    const { node: child, next } = readOne(node.value, at);
    out.push(child);
    at = next;
  }
  return out;
}

export function expect(node: Node | undefined, tag: number, what: string): Node {
  if (!node || node.tag !== tag) throw dataError(`invalid key data: expected ${what}`);
  return node;
}

export function encode(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const head = len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : len < 0x10000 ? [tag, 0x82, len >> 8, len & 0xff] : [tag, 0x83, len >> 16, (len >> 8) & 0xff, len & 0xff];
  const out = new Uint8Array(head.length + len);
  out.set(head);
  let at = head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** An unsigned big-endian INTEGER's content as a bigint. */
export function toBigInt(value: Uint8Array): bigint {
  return value.length ? BigInt('0x' + hex(value)) : 0n;
}

/** A non-negative bigint as DER INTEGER content (a leading 0 when the top bit is set). */
export function fromBigInt(n: bigint): Uint8Array {
  let h = n.toString(16);
  if (h.length % 2) h = '0' + h;
  const bytes = fromHex(h);
  return bytes[0] & 0x80 ? Uint8Array.from([0, ...bytes]) : bytes;
}

/** SubjectPublicKeyInfo: algorithm OID (hex), its parameters node, and the key bits. */
export function readSpki(bytes: Uint8Array): { oid: string; params: Node | undefined; key: Uint8Array } {
  const [algorithm, bits] = children(expect(parse(bytes), SEQUENCE, 'SubjectPublicKeyInfo'));
  const [oid, params] = children(expect(algorithm, SEQUENCE, 'AlgorithmIdentifier'));
  const key = expect(bits, BIT_STRING, 'BIT STRING').value;
  if (key[0] !== 0) throw dataError('invalid key data: unused bits in the public key');
  return { oid: hex(expect(oid, OID, 'OID').value), params, key: key.subarray(1) };
}

export function writeSpki(oid: string, params: Uint8Array | null, key: Uint8Array): Uint8Array {
  const algorithm = encode(SEQUENCE, encode(OID, fromHex(oid)), ...(params ? [params] : []));
  return encode(SEQUENCE, algorithm, encode(BIT_STRING, Uint8Array.of(0), key));
}

/** PrivateKeyInfo (PKCS #8): algorithm OID (hex), its parameters node, and the private key octets. */
export function readPkcs8(bytes: Uint8Array): { oid: string; params: Node | undefined; key: Uint8Array } {
  const [version, algorithm, key] = children(expect(parse(bytes), SEQUENCE, 'PrivateKeyInfo'));
  expect(version, INTEGER, 'version');
  const [oid, params] = children(expect(algorithm, SEQUENCE, 'AlgorithmIdentifier'));
  return { oid: hex(expect(oid, OID, 'OID').value), params, key: expect(key, OCTET_STRING, 'OCTET STRING').value };
}

export function writePkcs8(oid: string, params: Uint8Array | null, key: Uint8Array): Uint8Array {
  const algorithm = encode(SEQUENCE, encode(OID, fromHex(oid)), ...(params ? [params] : []));
  return encode(SEQUENCE, encode(INTEGER, Uint8Array.of(0)), algorithm, encode(OCTET_STRING, key));
}
