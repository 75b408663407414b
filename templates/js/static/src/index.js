// {{name}}: a wfn function that serves the files of public/ (wfn.toml `[files]` maps it to
// "/", read-only, inside the artifact). Files are read with `wfn:files`, synchronous calls in
// the style of Node's fs (readFile, stat; a missing file throws with code "ENOENT"): the
// content type by extension, an ETag and 304 on If-None-Match, single byte ranges
// (206/416), 404 for a missing file, 400 for a path with ".." or "\", index.html for a folder.
//
// Try it: `wfn dev`, then `curl -i localhost:8787/` and `curl -i -r 0-9 localhost:8787/style.css`.
import { readFile, stat } from 'wfn:files';

const TEXT = 'text/plain; charset=utf-8';
const TYPES = {
  html: 'text/html; charset=utf-8', htm: 'text/html; charset=utf-8', css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8', mjs: 'text/javascript; charset=utf-8', json: 'application/json',
  map: 'application/json', txt: TEXT, xml: 'application/xml', svg: 'image/svg+xml', png: 'image/png',
  jpg: 'image/jpeg', jpeg: 'image/jpeg', gif: 'image/gif', webp: 'image/webp', avif: 'image/avif',
  ico: 'image/x-icon', wasm: 'application/wasm', pdf: 'application/pdf', woff: 'font/woff', woff2: 'font/woff2',
  mp4: 'video/mp4',
};

const text = (status, body, headers = {}) => new Response(body, { status, headers: { 'Content-Type': TEXT, ...headers } });

/** The file path for PATH_INFO (already percent-decoded by the host); null when it tries to leave the folder. */
function filePath(pathInfo) {
  if (pathInfo.includes('\\') || pathInfo.includes('\0') || pathInfo.split('/').includes('..')) return null;
  const path = '/' + pathInfo.replace(/^\/+/, '');
  return path.endsWith('/') ? path + 'index.html' : path;
}

/** The file and its stat; a folder serves its index.html; null when there is none. */
function find(path) {
  try {
    let info = stat(path);
    if (info.isDirectory()) {
      path = path.replace(/\/+$/, '') + '/index.html';
      info = stat(path);
    }
    return info.isFile() ? { path, info } : null;
  } catch (error) {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
    throw error;
  }
}

function etagMatches(header, etag) {
  return header.split(',').map((t) => t.trim()).some((t) => t === '*' || t === etag || t === 'W/' + etag);
}

/** One "bytes=" range (first-last, first-, -suffix); several ranges or a malformed header get the whole file (RFC 9110). */
function parseRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'whole' };
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'part', start: size - Math.min(suffix, size), end: size - 1 };
  }
  const start = Number(m[1]);
  let end = size - 1;
  if (m[2] !== '') {
    const n = Number(m[2]);
    if (n < start) return { kind: 'whole' };
    end = Math.min(n, end);
  }
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'part', start, end };
}

export default {
  async fetch(request) {
    const method = request.method;
    if (method !== 'GET' && method !== 'HEAD') return text(405, 'Method Not Allowed\n', { Allow: 'GET, HEAD' });
    // request.cgi holds the CGI variables: PATH_INFO is the decoded path below the function's route.
    const path = filePath(request.cgi?.PATH_INFO ?? decodeURIComponent(new URL(request.url).pathname));
    if (path === null) return text(400, 'Bad Request\n');
    const found = find(path);
    if (!found) return text(404, 'Not Found\n');
    const { size, mtimeNs } = found.info;
    // Size and modification time, as nginx does: the same files give the same tag on every target.
    const etag = `"${size.toString(16)}-${mtimeNs.toString(16)}"`;
    const inm = request.headers.get('If-None-Match');
    if (inm && etagMatches(inm, etag)) return new Response(null, { status: 304, headers: { ETag: etag } });
    let range = parseRange(request.headers.get('Range') ?? '', size);
    const ifRange = request.headers.get('If-Range');
    if (ifRange && ifRange !== etag) range = { kind: 'whole' };
    if (range.kind === 'unsatisfiable') return text(416, 'Range Not Satisfiable\n', { 'Content-Range': `bytes */${size}` });
    const start = range.kind === 'part' ? range.start : 0;
    const length = range.kind === 'part' ? range.end - range.start + 1 : size;
    const dot = found.path.lastIndexOf('.');
    const headers = {
      'Content-Type': (dot > found.path.lastIndexOf('/') && TYPES[found.path.slice(dot + 1).toLowerCase()]) || 'application/octet-stream',
      'Content-Length': String(length),
      ETag: etag,
      'Accept-Ranges': 'bytes',
    };
    if (range.kind === 'part') headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
    const body = method === 'HEAD' ? null : readFile(found.path, { offset: start, length });
    return new Response(body, { status: range.kind === 'part' ? 206 : 200, headers });
  },
};
