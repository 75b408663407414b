/**
 * multipart/form-data, written by hand so the bytes of each part are exactly the bundle's
 * files (and so tests can take an upload apart again).
 */
import { randomBytes } from 'node:crypto';

export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  data: Uint8Array;
}

function quoted(value: string): string {
  return `"${value.replace(/["\\\r\n]/g, (c) => encodeURIComponent(c))}"`;
}

export function encodeMultipart(parts: Part[]): { body: Buffer; contentType: string } {
  let boundary: string;
  do boundary = `wfn-${randomBytes(16).toString('hex')}`;
  while (parts.some((p) => Buffer.from(p.data).includes(boundary)));
  const chunks: Buffer[] = [];
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(part.name)}`;
    if (part.filename !== undefined) head += `; filename=${quoted(part.filename)}`;
    head += '\r\n';
    if (part.contentType) head += `Content-Type: ${part.contentType}\r\n`;
    chunks.push(Buffer.from(head + '\r\n'), Buffer.from(part.data), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** The inverse of encodeMultipart (for tests and fakes; handles what this encoder writes). */
export function parseMultipart(body: Buffer, contentType: string): Part[] {
  const match = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!match) throw new Error(`no boundary in ${contentType}`);
  const delimiter = Buffer.from(`--${match[1] ?? match[2]}`);
  const parts: Part[] = [];
  let at = body.indexOf(delimiter);
  if (at < 0) throw new Error('no multipart delimiter in the body');
  for (;;) {
    at += delimiter.length;
    if (body.subarray(at, at + 2).toString() === '--') return parts;
    at += 2; // CRLF after the delimiter
    const headEnd = body.indexOf('\r\n\r\n', at);
    if (headEnd < 0) throw new Error('truncated part headers');
    const headers = new Map<string, string>();
    for (const line of body.subarray(at, headEnd).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headEnd + 4);
    if (next < 0) throw new Error('unterminated part');
    const disposition = headers.get('content-disposition') ?? '';
    const name = /\bname="([^"]*)"/.exec(disposition)?.[1] ?? '';
    const filename = /\bfilename="([^"]*)"/.exec(disposition)?.[1];
    parts.push({ name, filename, contentType: headers.get('content-type'), data: new Uint8Array(body.subarray(headEnd + 4, next)) });
    at = next + 2;
  }
}
