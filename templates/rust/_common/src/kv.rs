//! Key-value stores for a wfn function, over wfn's host API `wfn_kv_v1` (docs/contract.md).
//! Calls block until the store answers; failures are `Err`, never a panic. Only the stores
//! named in `[kv] stores` of wfn.toml can be opened.
//!
//!     let store = kv::Store::open("default")?;
//!     store.set("greeting", b"hello", 0)?;            // 0: no expiry; else a TTL in seconds
//!     let value: Option<Vec<u8>> = store.get("greeting")?;
//!     let keys: Vec<String> = store.list_all("gre")?;  // byte order, as Workers KV lists

#![allow(dead_code)] // a small toolbox: not every function uses every helper

use std::fmt;

mod host {
    // Rust-side names differ from the imports' (`link_name`), so they cannot clash with libc's.
    #[link(wasm_import_module = "wfn_kv_v1")]
    extern "C" {
        #[link_name = "open"]
        pub fn wfn_kv_open(name_ptr: *const u8, name_len: usize, store_out: *mut u32) -> u32;
        #[link_name = "get"]
        pub fn wfn_kv_get(store: u32, key_ptr: *const u8, key_len: usize, value_out: *mut u32, len_out: *mut u32) -> u32;
        #[link_name = "read"]
        pub fn wfn_kv_read(value: u32, buf_ptr: *mut u8, buf_len: usize, read_out: *mut usize) -> u32;
        #[link_name = "close"]
        pub fn wfn_kv_close(value: u32) -> u32;
        #[link_name = "set"]
        pub fn wfn_kv_set(store: u32, key_ptr: *const u8, key_len: usize, value_ptr: *const u8, value_len: usize, ttl_seconds: u32) -> u32;
        #[link_name = "delete"]
        pub fn wfn_kv_delete(store: u32, key_ptr: *const u8, key_len: usize) -> u32;
        #[link_name = "list"]
        pub fn wfn_kv_list(
            store: u32, prefix_ptr: *const u8, prefix_len: usize, cursor_ptr: *const u8, cursor_len: usize,
            limit: u32, value_out: *mut u32, len_out: *mut u32,
        ) -> u32;
        #[link_name = "error_message"]
        pub fn wfn_kv_error_message(buf_ptr: *mut u8, buf_len: usize, written_out: *mut usize) -> u32;
    }
}

const NOT_FOUND: u32 = 1;
const BUFFER_TOO_SMALL: u32 = 6;

/// What went wrong, as the host's error codes say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The store is not in `[kv] stores` of wfn.toml.
    Denied,
    /// A bad key (empty, over 512 bytes, with a newline or NUL, "." or ".."), prefix or cursor.
    Invalid,
    /// A value over 25 MiB.
    TooLarge,
    /// A handle that is not open.
    BadHandle,
    /// More than 1000 operations in one request, or too many values left open.
    Limit,
    /// The store behind could not be reached.
    Unavailable,
    /// Anything else; the message says what.
    Failed,
}

/// A failed call: its kind and the host's message (it names the store and the reason).
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

/// One page of `list`: the keys, and the cursor of the next page (None on the last one).
#[derive(Debug, Clone)]
pub struct Page {
    pub keys: Vec<String>,
    pub cursor: Option<String>,
}

/// An open store.
#[derive(Debug, Clone, Copy)]
pub struct Store {
    handle: u32,
}

impl Store {
    /// Opens a store named in `[kv] stores` of wfn.toml.
    pub fn open(name: &str) -> Result<Store, Error> {
        let mut handle = 0u32;
        check(unsafe { host::wfn_kv_open(name.as_ptr(), name.len(), &mut handle) })?;
        Ok(Store { handle })
    }

    /// The value of `key`, or None when it is absent or expired.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, Error> {
        let (mut value, mut len) = (0u32, 0u32);
        let code = unsafe { host::wfn_kv_get(self.handle, key.as_ptr(), key.len(), &mut value, &mut len) };
        if code == NOT_FOUND {
            return Ok(None);
        }
        check(code)?;
        read_value(value, len as usize).map(Some)
    }

    /// Stores `value` under `key` (overwrites). `ttl_seconds` 0: no expiry.
    pub fn set(&self, key: &str, value: &[u8], ttl_seconds: u32) -> Result<(), Error> {
        check(unsafe { host::wfn_kv_set(self.handle, key.as_ptr(), key.len(), value.as_ptr(), value.len(), ttl_seconds) })
    }

    /// Removes `key` (fine when it is absent).
    pub fn delete(&self, key: &str) -> Result<(), Error> {
        check(unsafe { host::wfn_kv_delete(self.handle, key.as_ptr(), key.len()) })
    }

    /// One page of the keys starting with `prefix`, in byte order; `limit` 0 means 1000.
    pub fn list(&self, prefix: &str, cursor: Option<&str>, limit: u32) -> Result<Page, Error> {
        let cursor = cursor.unwrap_or("");
        let (mut value, mut len) = (0u32, 0u32);
        check(unsafe {
            host::wfn_kv_list(self.handle, prefix.as_ptr(), prefix.len(), cursor.as_ptr(), cursor.len(), limit, &mut value, &mut len)
        })?;
        let bytes = read_value(value, len as usize)?;
        let text = String::from_utf8_lossy(&bytes);
        let mut lines = text.split('\n');
        let next = lines.next().unwrap_or("");
        let keys = lines.filter(|line| !line.is_empty()).map(|line| line.to_string()).collect();
        Ok(Page { keys, cursor: if next.is_empty() { None } else { Some(next.to_string()) } })
    }

    /// Every key starting with `prefix`, page after page.
    pub fn list_all(&self, prefix: &str) -> Result<Vec<String>, Error> {
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.list(prefix, cursor.as_deref(), 0)?;
            keys.extend(page.keys);
            match page.cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(keys),
            }
        }
    }
}

fn read_value(value: u32, len: usize) -> Result<Vec<u8>, Error> {
    let mut bytes = vec![0u8; len];
    let mut filled = 0usize;
    let result = loop {
        if filled == len {
            break Ok(());
        }
        let mut read = 0usize;
        if let Err(error) = check(unsafe { host::wfn_kv_read(value, bytes[filled..].as_mut_ptr(), len - filled, &mut read) }) {
            break Err(error);
        }
        if read == 0 {
            break Ok(());
        }
        filled += read;
    };
    unsafe { host::wfn_kv_close(value) };
    result.map(|_| {
        bytes.truncate(filled);
        bytes
    })
}

fn check(code: u32) -> Result<(), Error> {
    if code == 0 {
        return Ok(());
    }
    let kind = match code {
        2 => ErrorKind::Denied,
        3 => ErrorKind::Invalid,
        4 => ErrorKind::TooLarge,
        5 => ErrorKind::BadHandle,
        7 => ErrorKind::Limit,
        8 => ErrorKind::Unavailable,
        _ => ErrorKind::Failed,
    };
    let mut buffer = vec![0u8; 512];
    let message = loop {
        let mut written = 0usize;
        let status = unsafe { host::wfn_kv_error_message(buffer.as_mut_ptr(), buffer.len(), &mut written) };
        if status == BUFFER_TOO_SMALL {
            buffer.resize(written, 0);
            continue;
        }
        break if status == 0 { String::from_utf8_lossy(&buffer[..written]).into_owned() } else { format!("kv call failed (error {})", code) };
    };
    Err(Error { kind, message })
}
