// {{name}}: a wfn function that serves the files of public/ (wfn.toml `[files]` maps it to
// "/", read-only, inside the artifact) through files.ts (a few WASI preview1 calls: the
// standard library has no file API): the content type by extension, an ETag and 304 on
// If-None-Match, single byte ranges (206/416), 404 for a missing file, 400 for a path with
// ".." or "\", index.html for a folder.
//
// Try it: `wfn dev`, then `curl -i localhost:8787/` and `curl -i -r 0-9 localhost:8787/style.css`.
import { env, respondWith } from "./cgi";
import { FileInfo, readRange, stat } from "./files";

const TEXT = "text/plain; charset=utf-8";

function text(status: i32, body: string, extra: string[][] = []): void {
  const headers: string[][] = [["Content-Type", TEXT]];
  for (let i = 0; i < extra.length; i++) headers.push(extra[i]);
  respondWith(status, headers, String.UTF8.encode(body));
}

/** The file path for PATH_INFO (already percent-decoded by the host); "" when it tries to leave the folder. */
function filePath(pathInfo: string): string {
  if (pathInfo.includes("\\") || pathInfo.includes("\0")) return "";
  const parts = pathInfo.split("/");
  for (let i = 0; i < parts.length; i++) if (parts[i] == "..") return "";
  let at = 0;
  while (at < pathInfo.length && pathInfo.charCodeAt(at) == 47) at++;
  let path = "/" + pathInfo.substring(at);
  if (path.endsWith("/")) path += "index.html";
  return path;
}

function hex(n: u64): string {
  return n.toString(16);
}

function etagMatches(header: string, etag: string): bool {
  const tags = header.split(",");
  for (let i = 0; i < tags.length; i++) {
    const tag = tags[i].trim();
    if (tag == "*" || tag == etag || (tag.startsWith("W/") && tag.substring(2) == etag)) return true;
  }
  return false;
}

function isDigits(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

const WHOLE = 0;
const PART = 1;
const UNSATISFIABLE = 2;

class Range {
  constructor(public kind: i32, public start: u64 = 0, public end: u64 = 0) {}
}

/** One "bytes=" range (first-last, first-, -suffix); several ranges or a malformed header get the whole file (RFC 9110). */
function parseRange(header: string, size: u64): Range {
  const h = header.trim();
  if (!h.startsWith("bytes=")) return new Range(WHOLE);
  const spec = h.substring(6).trim();
  if (spec.includes(",")) return new Range(WHOLE);
  const dash = spec.indexOf("-");
  if (dash < 0) return new Range(WHOLE);
  const first = spec.substring(0, dash);
  const last = spec.substring(dash + 1);
  if (first.length == 0) {
    if (!isDigits(last)) return new Range(WHOLE);
    let suffix = U64.parseInt(last);
    if (suffix == 0 || size == 0) return new Range(UNSATISFIABLE);
    if (suffix > size) suffix = size;
    return new Range(PART, size - suffix, size - 1);
  }
  if (!isDigits(first)) return new Range(WHOLE);
  const start = U64.parseInt(first);
  let end = size - 1;
  if (last.length > 0) {
    if (!isDigits(last)) return new Range(WHOLE);
    const n = U64.parseInt(last);
    if (n < start) return new Range(WHOLE);
    if (n < end) end = n;
  }
  if (start >= size) return new Range(UNSATISFIABLE);
  return new Range(PART, start, end);
}

function contentType(path: string): string {
  const name = path.substring(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  const ext = dot < 0 ? "" : name.substring(dot + 1).toLowerCase();
  if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "text/javascript; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json";
  if (ext == "txt") return TEXT;
  if (ext == "xml") return "application/xml";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "gif") return "image/gif";
  if (ext == "webp") return "image/webp";
  if (ext == "avif") return "image/avif";
  if (ext == "ico") return "image/x-icon";
  if (ext == "wasm") return "application/wasm";
  if (ext == "pdf") return "application/pdf";
  if (ext == "woff") return "font/woff";
  if (ext == "woff2") return "font/woff2";
  if (ext == "mp4") return "video/mp4";
  return "application/octet-stream";
}

function serve(method: string, path: string, info: FileInfo): void {
  const size = info.size;
  // Size and modification time, as nginx does: the same files give the same tag on every target.
  const etag = "\"" + hex(size) + "-" + hex(info.mtimeNs) + "\"";
  const inm = env("HTTP_IF_NONE_MATCH");
  if (inm.length > 0 && etagMatches(inm, etag)) {
    respondWith(304, [["ETag", etag]], new ArrayBuffer(0));
    return;
  }
  let range = parseRange(env("HTTP_RANGE"), size);
  const ifRange = env("HTTP_IF_RANGE");
  if (ifRange.length > 0 && ifRange != etag) range = new Range(WHOLE);
  if (range.kind == UNSATISFIABLE) {
    text(416, "Range Not Satisfiable\n", [["Content-Range", "bytes */" + size.toString()]]);
    return;
  }
  const start: u64 = range.kind == PART ? range.start : 0;
  const length: u64 = range.kind == PART ? range.end - range.start + 1 : size;
  const headers: string[][] = [["Content-Type", contentType(path)], ["Content-Length", length.toString()], ["ETag", etag], ["Accept-Ranges", "bytes"]];
  if (range.kind == PART) headers.push(["Content-Range", "bytes " + range.start.toString() + "-" + range.end.toString() + "/" + size.toString()]);
  const body = method == "HEAD" ? new ArrayBuffer(0) : readRange(path, start, <i32>length);
  if (body == null) {
    text(404, "Not Found\n");
    return;
  }
  respondWith(range.kind == PART ? 206 : 200, headers, body);
}

function main(): void {
  const method = env("REQUEST_METHOD");
  if (method != "GET" && method != "HEAD") {
    text(405, "Method Not Allowed\n", [["Allow", "GET, HEAD"]]);
    return;
  }
  let path = filePath(env("PATH_INFO"));
  if (path.length == 0) {
    text(400, "Bad Request\n");
    return;
  }
  let info = stat(path);
  if (info != null && info.isDir) {
    path = (path.endsWith("/") ? path : path + "/") + "index.html";
    info = stat(path);
  }
  if (info == null || !info.isFile) {
    text(404, "Not Found\n");
    return;
  }
  serve(method, path, info);
}
main();
