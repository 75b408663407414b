//! {{name}}: a wfn function over the key-value store "default" (`[kv] stores` in wfn.toml):
//!
//!   GET    /<key>          the value (200), or 404 when absent or expired
//!   PUT    /<key>[?ttl=S]  stores the request body (201); ttl: seconds until it expires
//!   DELETE /<key>          removes it (204)
//!   GET    /?prefix=P      the keys starting with P, as a JSON array in byte order
//!
//! Values are bytes, up to 25 MiB; keys up to 512 bytes (docs/contract.md).

mod cgi;
mod kv;

fn fail(error: &kv::Error) {
    let status = match error.kind {
        kv::ErrorKind::Invalid => 400,
        kv::ErrorKind::TooLarge => 413,
        kv::ErrorKind::Limit => 429,
        kv::ErrorKind::Unavailable => 503,
        _ => 500,
    };
    let mut body = error.message.clone();
    body.push('\n');
    cgi::respond(status, "text/plain; charset=utf-8", body.as_bytes());
}

fn main() {
    let store = match kv::Store::open("default") {
        Ok(store) => store,
        Err(error) => return fail(&error),
    };
    let method = cgi::var("REQUEST_METHOD");
    let path = cgi::var("PATH_INFO");
    let key = path.strip_prefix('/').unwrap_or(&path);
    let query = cgi::var("QUERY_STRING");

    if key.is_empty() {
        if method != "GET" {
            return cgi::respond(405, "text/plain; charset=utf-8", b"use GET /?prefix=P to list keys\n");
        }
        let prefix = cgi::query_param(&query, "prefix").unwrap_or_default();
        return match store.list_all(&prefix) {
            Ok(keys) => {
                let mut json = String::from("[");
                for (i, key) in keys.iter().enumerate() {
                    if i > 0 {
                        json.push(',');
                    }
                    cgi::push_json_string(&mut json, key);
                }
                json.push(']');
                cgi::respond(200, "application/json", json.as_bytes());
            }
            Err(error) => fail(&error),
        };
    }

    match method.as_str() {
        "GET" | "HEAD" => match store.get(key) {
            Ok(Some(value)) => cgi::respond(200, "application/octet-stream", &value),
            Ok(None) => cgi::respond(404, "text/plain; charset=utf-8", b"not found\n"),
            Err(error) => fail(&error),
        },
        "PUT" => {
            let ttl = match cgi::query_param(&query, "ttl").map(|t| t.parse::<u32>()) {
                None => 0,
                Some(Ok(seconds)) => seconds,
                Some(Err(_)) => return cgi::respond(400, "text/plain; charset=utf-8", b"ttl must be a whole number of seconds\n"),
            };
            match store.set(key, &cgi::read_body(), ttl) {
                Ok(()) => cgi::respond(201, "text/plain; charset=utf-8", b""),
                Err(error) => fail(&error),
            }
        }
        "DELETE" => match store.delete(key) {
            Ok(()) => cgi::respond(204, "text/plain; charset=utf-8", b""),
            Err(error) => fail(&error),
        },
        _ => cgi::respond(405, "text/plain; charset=utf-8", b"use GET, PUT or DELETE\n"),
    }
}
