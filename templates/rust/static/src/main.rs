//! {{name}}: a wfn function that serves the files of public/ (wfn.toml `[files]` maps it to
//! "/", read-only, inside the artifact) with plain `std::fs`:
//! the content type by extension, an ETag and 304 on If-None-Match, single byte ranges
//! (206/416), 404 for a missing file, 400 for a path with ".." or "\", index.html for a folder.
//!
//! Try it: `wfn dev`, then `curl -i localhost:8787/` and `curl -i -r 0-9 localhost:8787/style.css`.

mod cgi;

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::UNIX_EPOCH;

fn main() {
    let method = cgi::var("REQUEST_METHOD");
    if method != "GET" && method != "HEAD" {
        return cgi::respond_with_headers(405, &[("Allow", "GET, HEAD"), ("Content-Type", "text/plain; charset=utf-8")], b"Method Not Allowed\n");
    }
    let path = match file_path(&cgi::var("PATH_INFO")) {
        Some(path) => path,
        None => return cgi::respond(400, "text/plain; charset=utf-8", b"Bad Request\n"),
    };
    let (path, meta) = match open_path(&path) {
        Some(found) => found,
        None => return cgi::respond(404, "text/plain; charset=utf-8", b"Not Found\n"),
    };
    serve(&method, &path, &meta);
}

/// The file path for PATH_INFO (already percent-decoded by the host), or None when it tries
/// to leave the folder: a ".." part (also "%2e%2e", decoded) or a backslash.
fn file_path(path_info: &str) -> Option<String> {
    if path_info.contains('\\') || path_info.contains('\0') || path_info.split('/').any(|part| part == "..") {
        return None;
    }
    let mut path = format!("/{}", path_info.trim_start_matches('/'));
    if path.ends_with('/') {
        path.push_str("index.html");
    }
    Some(path)
}

/// The file and its metadata; a folder serves its index.html.
fn open_path(path: &str) -> Option<(String, fs::Metadata)> {
    let meta = fs::metadata(path).ok()?;
    if meta.is_dir() {
        let index = format!("{}/index.html", path.trim_end_matches('/'));
        let meta = fs::metadata(&index).ok()?;
        return if meta.is_file() { Some((index, meta)) } else { None };
    }
    if meta.is_file() {
        Some((path.to_string(), meta))
    } else {
        None
    }
}

fn serve(method: &str, path: &str, meta: &fs::Metadata) {
    let size = meta.len();
    let mtime = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_nanos()).unwrap_or(0);
    // Size and modification time, as nginx does: the same files give the same tag on every target.
    let etag = format!("\"{:x}-{:x}\"", size, mtime);
    let content_type = content_type(path);
    let if_none_match = cgi::var("HTTP_IF_NONE_MATCH");
    if !if_none_match.is_empty() && etag_matches(&if_none_match, &etag) {
        return cgi::respond_with_headers(304, &[("ETag", &etag)], b"");
    }
    let mut range = parse_range(&cgi::var("HTTP_RANGE"), size);
    let if_range = cgi::var("HTTP_IF_RANGE");
    if !if_range.is_empty() && if_range != etag {
        range = Range::Whole;
    }
    let (status, start, len, content_range) = match range {
        Range::Whole => (200, 0, size, None),
        Range::Part(start, end) => (206, start, end - start + 1, Some(format!("bytes {}-{}/{}", start, end, size))),
        Range::Unsatisfiable => {
            let all = format!("bytes */{}", size);
            return cgi::respond_with_headers(416, &[("Content-Range", &all), ("Content-Type", "text/plain; charset=utf-8")], b"Range Not Satisfiable\n");
        }
    };
    let length = len.to_string();
    let mut headers = vec![("Content-Type", content_type), ("Content-Length", length.as_str()), ("ETag", etag.as_str()), ("Accept-Ranges", "bytes")];
    if let Some(content_range) = &content_range {
        headers.push(("Content-Range", content_range.as_str()));
    }
    let mut head = Vec::new();
    for (name, value) in &headers {
        head.extend_from_slice(format!("{}: {}\n", name, value).as_bytes());
    }
    if status == 206 {
        head.extend_from_slice(b"Status: 206 Partial Content\n");
    }
    head.push(b'\n');
    let stdout = io::stdout();
    let mut out = stdout.lock();
    out.write_all(&head).expect("writing the response");
    if method == "GET" {
        let mut file = File::open(path).expect("opening the file");
        file.seek(SeekFrom::Start(start)).expect("seeking in the file");
        io::copy(&mut file.take(len), &mut out).expect("writing the file");
    }
    out.flush().expect("writing the response");
}

fn etag_matches(header: &str, etag: &str) -> bool {
    header.split(',').map(|tag| tag.trim()).any(|tag| tag == "*" || tag == etag || tag.strip_prefix("W/") == Some(etag))
}

enum Range {
    Whole,
    Part(u64, u64),
    Unsatisfiable,
}

/// One "bytes=" range (first-last, first-, -suffix); several ranges or a malformed header
/// are answered with the whole file, as RFC 9110 allows.
fn parse_range(header: &str, size: u64) -> Range {
    let spec = match header.trim().strip_prefix("bytes=") {
        Some(spec) if !spec.contains(',') => spec.trim(),
        _ => return Range::Whole,
    };
    let (first, last) = match spec.split_once('-') {
        Some(pair) => pair,
        None => return Range::Whole,
    };
    let number = |text: &str| if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) { text.parse::<u64>().ok() } else { None };
    match (first.is_empty(), number(first), number(last)) {
        (true, _, Some(suffix)) => {
            if suffix == 0 || size == 0 {
                Range::Unsatisfiable
            } else {
                Range::Part(size - suffix.min(size), size - 1)
            }
        }
        (false, Some(start), end) if last.is_empty() || end.is_some() => {
            if start >= size {
                return Range::Unsatisfiable;
            }
            match end {
                Some(end) if end < start => Range::Whole,
                Some(end) => Range::Part(start, end.min(size - 1)),
                None => Range::Part(start, size - 1),
            }
        }
        _ => Range::Whole,
    }
}

fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit('/').next().and_then(|name| name.rsplit_once('.')).map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        "pdf" => "application/pdf",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

