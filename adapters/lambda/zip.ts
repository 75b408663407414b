/**
 * Deterministic zips: the same files give the same bytes (fixed order, fixed timestamps,
 * fixed permissions), so an unchanged function has an unchanged CodeSha256 and a redeploy
 * of it is a no-op.
 */
import { createHash } from 'node:crypto';
import { unzipSync, zipSync, type Zippable } from 'fflate';

/**
 * 1980-01-01 12:00 (DOS dates start in 1980). fflate writes the DOS date from local-time
 * getters, so the Date is built from local-time fields at each call: the stored fields are
 * then the same in every time zone (noon: no zone's DST change falls on it).
 */
const fixedMtime = () => new Date(1980, 0, 1, 12, 0, 0);
/** Unix, regular file, rw-r--r-- (Lambda needs the files world-readable). */
const FILE_ATTRS = { os: 3, attrs: 0o100644 << 16 };

export interface ZipEntry {
  path: string;
  data: Uint8Array;
}

export function deterministicZip(entries: ZipEntry[]): Uint8Array {
  const files: Zippable = {};
  for (const entry of entries) files[entry.path] = [entry.data, { level: 9, mtime: fixedMtime(), ...FILE_ATTRS }];
  return zipSync(files);
}

export function readZip(bytes: Uint8Array): Record<string, Uint8Array> {
  return unzipSync(bytes);
}

/** The zip's CodeSha256 as Lambda reports it: base64 of the SHA-256 of the zip. */
export function codeSha256(zip: Uint8Array): string {
  return createHash('sha256').update(zip).digest('base64');
}
