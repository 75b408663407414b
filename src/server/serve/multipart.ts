/**
 * A small multipart/form-data reader (RFC 7578) for the deploy upload: parts are found with
 * Buffer.indexOf, so a 64 MiB module is split without copying (undici's parser is ~25 ms/MiB).
 */
export class MultipartError extends Error {}

export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  body: Buffer;
}

export function boundaryOf(contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary || boundary.length > 200) throw new MultipartError('multipart/form-data without a valid boundary');
  return boundary;
}

function parseHeaders(text: string): Omit<Part, 'body'> {
  let name: string | undefined;
  let filename: string | undefined;
  let contentType: string | undefined;
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'content-type') contentType = value;
    if (key === 'content-disposition') {
      name = /;\s*name="([^"]*)"/i.exec(value)?.[1] ?? /;\s*name=([^;\s]+)/i.exec(value)?.[1];
      filename = /;\s*filename="([^"]*)"/i.exec(value)?.[1];
    }
  }
  if (name === undefined) throw new MultipartError('a multipart part has no Content-Disposition name');
  return { name, filename, contentType };
}

export function parseMultipart(body: Uint8Array, contentType: string): Part[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.length);
  const delimiter = Buffer.from(`--${boundaryOf(contentType)}`);
  const parts: Part[] = [];
  let at = buf.indexOf(delimiter);
  if (at < 0) throw new MultipartError('the multipart body has no boundary line');
  for (;;) {
    at += delimiter.length;
    if (buf[at] === 0x2d && buf[at + 1] === 0x2d) return parts; // closing "--boundary--"
    if (buf[at] !== 0x0d || buf[at + 1] !== 0x0a) throw new MultipartError('malformed boundary line');
    const headerEnd = buf.indexOf('\r\n\r\n', at + 2);
    if (headerEnd < 0) throw new MultipartError('a multipart part has no end of headers');
    const headers = parseHeaders(buf.subarray(at + 2, headerEnd).toString('utf8'));
    const next = buf.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4);
    if (next < 0) throw new MultipartError('the multipart body ends inside a part (no closing boundary)');
    parts.push({ ...headers, body: buf.subarray(headerEnd + 4, next) });
    at = next + 2;
  }
}
