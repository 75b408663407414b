// Small helpers for the wfn function contract (CGI over WASI preview1):
// the request arrives in environment variables and stdin; the response goes to stdout.

export function env(name: string): string {
  return process.env.has(name) ? process.env.get(name) : "";
}

/** Reads the whole request body from stdin. */
export function readBody(): ArrayBuffer {
  let chunks = new Array<ArrayBuffer>();
  let total = 0;
  while (true) {
    const chunk = new ArrayBuffer(65536);
    const n = process.stdin.read(chunk);
    if (n <= 0) break;
    chunks.push(chunk.slice(0, n));
    total += n;
  }
  const body = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < chunks.length; i++) {
    body.set(Uint8Array.wrap(chunks[i]), at);
    at += chunks[i].byteLength;
  }
  return body.buffer;
}

/** Percent-decoding with "+" as space, as HTML forms encode query strings. */
export function decodeQueryComponent(text: string): string {
  const spaced = text.replaceAll("+", " ");
  // decodeURIComponent throws (aborts) on a malformed escape: keep the text as it is then.
  for (let i = 0; i < spaced.length; i++) {
    if (spaced.charCodeAt(i) == 37 /* % */) {
      if (i + 2 >= spaced.length || !isHex(spaced.charCodeAt(i + 1)) || !isHex(spaced.charCodeAt(i + 2))) return spaced;
    }
  }
  return decodeURIComponent(spaced);
}

function isHex(c: i32): bool {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** QUERY_STRING as ordered (key, value) pairs; a repeated key keeps its last value. */
export function parseQuery(query: string): Map<string, string> {
  const map = new Map<string, string>();
  if (query.length == 0) return map;
  const parts = query.split("&");
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (part.length == 0) continue;
    const eq = part.indexOf("=");
    const key = decodeQueryComponent(eq < 0 ? part : part.substring(0, eq));
    const value = eq < 0 ? "" : decodeQueryComponent(part.substring(eq + 1));
    map.set(key, value);
  }
  return map;
}

/** A JSON string literal, escaped exactly as JavaScript's JSON.stringify does. */
export function jsonString(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 34) out += "\\\"";
    else if (c == 92) out += "\\\\";
    else if (c == 8) out += "\\b";
    else if (c == 12) out += "\\f";
    else if (c == 10) out += "\\n";
    else if (c == 13) out += "\\r";
    else if (c == 9) out += "\\t";
    else if (c < 32) out += "\\u00" + (c < 16 ? "0" : "") + c.toString(16);
    else out += String.fromCharCode(c);
  }
  return out + "\"";
}

/** Writes a complete CGI response: headers, a blank line, the body. */
export function respond(status: string, contentType: string, body: string): void {
  let head = "Content-Type: " + contentType + "\n";
  if (status.length > 0) head = "Status: " + status + "\n" + head;
  process.stdout.write(head + "\n" + body);
}

/** Writes a complete CGI response with any header lines and a binary body (line breaks in values are dropped). */
export function respondWith(status: i32, headers: string[][], body: ArrayBuffer): void {
  let head = "";
  for (let i = 0; i < headers.length; i++) {
    head += headers[i][0] + ": " + headers[i][1].replaceAll("\r", "").replaceAll("\n", "") + "\n";
  }
  if (status != 200) head += "Status: " + status.toString() + "\n";
  process.stdout.write(head + "\n");
  process.stdout.write(body);
}
