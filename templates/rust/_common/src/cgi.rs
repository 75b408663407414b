//! The CGI side of a wfn function: the request comes in environment variables
//! (REQUEST_METHOD, PATH_INFO, QUERY_STRING, HTTP_*) and on stdin; the response
//! goes to stdout as a header block, a blank line, then the body.
//! Plain std, no crates: the function builds offline with any Rust >= 1.63.

#![allow(dead_code)] // a small toolbox: not every function uses every helper

use std::io::{self, Read, Write};

/// A request variable such as "REQUEST_METHOD" or "PATH_INFO"; "" when unset.
pub fn var(name: &str) -> String {
    std::env::var_os(name)
        .map(|value| value.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The request body (stdin), all of it.
pub fn read_body() -> Vec<u8> {
    let mut body = Vec::new();
    io::stdin()
        .read_to_end(&mut body)
        .expect("reading the request body");
    body
}

/// QUERY_STRING as (name, value) pairs, decoded the way a browser's URLSearchParams
/// does: split on '&', '+' is a space, %XX escapes are bytes, the bytes are UTF-8.
/// Names keep the order of their first appearance; a repeated name keeps its last value.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for piece in query.split('&').filter(|piece| !piece.is_empty()) {
        let (name, value) = match piece.find('=') {
            Some(at) => (&piece[..at], &piece[at + 1..]),
            None => (piece, ""),
        };
        let (name, value) = (decode_component(name), decode_component(value));
        match pairs.iter_mut().find(|(known, _)| *known == name) {
            Some(pair) => pair.1 = value,
            None => pairs.push((name, value)),
        }
    }
    pairs
}

/// The last value of query parameter `name`, if present.
pub fn query_param(query: &str, name: &str) -> Option<String> {
    parse_query(query)
        .into_iter()
        .find(|(known, _)| known == name)
        .map(|(_, value)| value)
}

/// Form-urlencoded decoding: '+' -> ' ', %XX -> byte (a malformed escape stays as
/// written), then UTF-8 with U+FFFD for invalid bytes.
pub fn decode_component(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = if bytes[i] == b'%' && i + 2 < bytes.len() {
            hex(bytes[i + 1]).zip(hex(bytes[i + 2]))
        } else {
            None
        };
        match (bytes[i], escape) {
            (_, Some((high, low))) => {
                out.push(high * 16 + low);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (byte, None) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|value| value as u8)
}

/// Appends `text` as a JSON string literal, escaped exactly as JavaScript's
/// JSON.stringify does it (so every language's function answers byte-identical JSON).
pub fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes the whole response to stdout in one go. `status` 200 needs no Status header.
pub fn respond(status: u16, content_type: &str, body: &[u8]) {
    respond_with_headers(status, &[("Content-Type", content_type)], body);
}

/// Like `respond`, with any header lines (a name may repeat; line breaks in values are dropped).
pub fn respond_with_headers(status: u16, headers: &[(&str, &str)], body: &[u8]) {
    let mut response = Vec::new();
    for (name, value) in headers {
        let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
        response.extend_from_slice(format!("{}: {}\n", name, value).as_bytes());
    }
    if status != 200 {
        response.extend_from_slice(format!("Status: {} {}\n", status, reason(status)).trim_end().as_bytes());
        response.push(b'\n');
    }
    response.push(b'\n');
    response.extend_from_slice(body);
    let stdout = io::stdout();
    let mut stdout = stdout.lock();
    stdout.write_all(&response).expect("writing the response");
    stdout.flush().expect("writing the response");
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}
