//! Outbound HTTP for a wfn function, over wfn's host API `wfn_http_v1` (docs/contract.md).
//! The call blocks until the response is in; failures are `Err`, never a panic.
//! Only origins listed in `[outbound] allow` of wfn.toml can be called.
//!
//!     let response = http::send(&http::Request::get("https://api.example.com/v1/items"))?;
//!     let text = String::from_utf8_lossy(&response.body);

#![allow(dead_code)] // a small toolbox: not every function uses every helper

use std::fmt;

mod host {
    // Rust-side names differ from the imports' (`link_name`), so they cannot clash with libc's `send`/`close`.
    #[link(wasm_import_module = "wfn_http_v1")]
    extern "C" {
        #[link_name = "send"]
        pub fn wfn_http_send(
            method_ptr: *const u8, method_len: usize, url_ptr: *const u8, url_len: usize,
            headers_ptr: *const u8, headers_len: usize, body_ptr: *const u8, body_len: usize,
            flags: u32, handle_out: *mut u32,
        ) -> u32;
        #[link_name = "status"]
        pub fn wfn_http_status(handle: u32, status_out: *mut u32) -> u32;
        #[link_name = "headers"]
        pub fn wfn_http_headers(handle: u32, buf_ptr: *mut u8, buf_len: usize, written_out: *mut usize) -> u32;
        #[link_name = "body_read"]
        pub fn wfn_http_body_read(handle: u32, buf_ptr: *mut u8, buf_len: usize, read_out: *mut usize) -> u32;
        #[link_name = "close"]
        pub fn wfn_http_close(handle: u32) -> u32;
        #[link_name = "error_message"]
        pub fn wfn_http_error_message(buf_ptr: *mut u8, buf_len: usize, written_out: *mut usize) -> u32;
    }
}

const FOLLOW_REDIRECTS: u32 = 1;
const BUFFER_TOO_SMALL: u32 = 7;

/// What went wrong, as the host's error codes say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The origin is not in `[outbound] allow` of wfn.toml.
    Denied,
    /// DNS, connection refused or reset, TLS.
    Unreachable,
    /// The per-call timeout (`[outbound] timeout_ms`) passed.
    Timeout,
    /// The response body is over `[outbound] max_response_bytes`.
    TooLarge,
    /// A bad method, URL or header.
    Invalid,
    /// More calls in one request than `[outbound] max_calls`.
    Limit,
    /// Anything else; the message says what.
    Failed,
}

/// A failed call: its kind and the host's message (it names the origin and the reason).
#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// An outbound request. Redirects are followed (up to 20, each hop checked against the
/// allow list) unless `follow_redirects` is false.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub follow_redirects: bool,
}

impl Request {
    pub fn new(method: &str, url: &str) -> Request {
        Request { method: method.to_string(), url: url.to_string(), headers: Vec::new(), body: Vec::new(), follow_redirects: true }
    }

    pub fn get(url: &str) -> Request {
        Request::new("GET", url)
    }

    pub fn post(url: &str, body: Vec<u8>) -> Request {
        Request::new("POST", url).body(body)
    }

    /// Adds a header (a name may repeat).
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn body(mut self, body: Vec<u8>) -> Request {
        self.body = body;
        self
    }
}

/// The upstream's answer: status, headers (lower-case names, repeated names kept), body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (give it in lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(known, _)| known == name).map(|(_, value)| value.as_str())
    }
}

/// Sends the request and reads the whole response.
pub fn send(request: &Request) -> Result<Response, Error> {
    let mut header_lines = String::new();
    for (name, value) in &request.headers {
        // A line break would start another header: refuse it rather than let it through.
        if value.contains('\n') || value.contains('\r') || name.contains(':') {
            return Err(Error { kind: ErrorKind::Invalid, message: format!("outbound request invalid: header \"{}\" holds a line break or colon", name) });
        }
        header_lines.push_str(name);
        header_lines.push_str(": ");
        header_lines.push_str(value);
        header_lines.push('\n');
    }
    let flags = if request.follow_redirects { FOLLOW_REDIRECTS } else { 0 };
    let mut handle = 0u32;
    let code = unsafe {
        host::wfn_http_send(
            request.method.as_ptr(), request.method.len(), request.url.as_ptr(), request.url.len(),
            header_lines.as_ptr(), header_lines.len(), request.body.as_ptr(), request.body.len(),
            flags, &mut handle,
        )
    };
    if code != 0 {
        return Err(last_error(code));
    }
    let response = read_response(handle);
    unsafe { host::wfn_http_close(handle) };
    response
}

fn read_response(handle: u32) -> Result<Response, Error> {
    let mut status = 0u32;
    check(unsafe { host::wfn_http_status(handle, &mut status) })?;
    let raw = read_sized(|ptr, len, written| unsafe { host::wfn_http_headers(handle, ptr, len, written) })?;
    let headers = String::from_utf8_lossy(&raw)
        .lines()
        .filter_map(|line| line.find(':').map(|at| (line[..at].to_string(), line[at + 1..].trim().to_string())))
        .collect();
    let mut body = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let mut read = 0usize;
        check(unsafe { host::wfn_http_body_read(handle, chunk.as_mut_ptr(), chunk.len(), &mut read) })?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Ok(Response { status: status as u16, headers, body })
}

/// Calls a host function that fills a buffer, again with a bigger one when it says BUFFER_TOO_SMALL.
fn read_sized(mut call: impl FnMut(*mut u8, usize, *mut usize) -> u32) -> Result<Vec<u8>, Error> {
    let mut buffer = vec![0u8; 1024];
    loop {
        let mut written = 0usize;
        let code = call(buffer.as_mut_ptr(), buffer.len(), &mut written);
        if code == BUFFER_TOO_SMALL {
            buffer.resize(written, 0);
            continue;
        }
        check(code)?;
        buffer.truncate(written);
        return Ok(buffer);
    }
}

fn check(code: u32) -> Result<(), Error> {
    if code == 0 {
        Ok(())
    } else {
        Err(last_error(code))
    }
}

fn last_error(code: u32) -> Error {
    let kind = match code {
        1 => ErrorKind::Denied,
        2 => ErrorKind::Unreachable,
        3 => ErrorKind::Timeout,
        4 => ErrorKind::TooLarge,
        5 => ErrorKind::Invalid,
        8 => ErrorKind::Limit,
        _ => ErrorKind::Failed,
    };
    let message = read_sized(|ptr, len, written| unsafe { host::wfn_http_error_message(ptr, len, written) })
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_else(|_| format!("outbound request failed (error {})", code));
    Error { kind, message }
}
