//! {{name}}: a wfn function that proxies every request to the origin in the variable
//! UPSTREAM: it requests UPSTREAM + the incoming path and query (same method, body and
//! headers), then answers with the upstream's status, content type and body, plus
//! `x-upstream-status`. When the call fails (denied, unreachable, timeout) it answers 502
//! with the error's message.
//!
//! The origin must be allowed in wfn.toml: `[outbound] allow = ["https://api.example.com"]`.

mod cgi;
mod http;

/// Request headers that describe this hop, not the request: the host sets its own.
const NOT_FORWARDED: &[&str] = &["host", "content-length", "connection", "keep-alive", "transfer-encoding", "upgrade", "te", "trailer"];

fn main() {
    let upstream = cgi::var("UPSTREAM");
    if upstream.is_empty() {
        cgi::respond(500, "text/plain; charset=utf-8", b"UPSTREAM is not set: add it to [env] in wfn.toml\n");
        return;
    }
    let mut url = upstream.trim_end_matches('/').to_string();
    url.push_str(&cgi::var("X_RAW_PATH_INFO"));
    let query = cgi::var("QUERY_STRING");
    if !query.is_empty() {
        url.push('?');
        url.push_str(&query);
    }

    let mut request = http::Request::new(&cgi::var("REQUEST_METHOD"), &url).body(cgi::read_body());
    let content_type = cgi::var("CONTENT_TYPE");
    if !content_type.is_empty() {
        request = request.header("content-type", &content_type);
    }
    for (name, value) in std::env::vars() {
        if let Some(rest) = name.strip_prefix("HTTP_") {
            let header = rest.to_ascii_lowercase().replace('_', "-");
            if !NOT_FORWARDED.contains(&header.as_str()) {
                request = request.header(&header, &value);
            }
        }
    }

    match http::send(&request) {
        Ok(response) => {
            let status = response.status.to_string();
            let mut headers = vec![("x-upstream-status", status.as_str())];
            if let Some(content_type) = response.header("content-type") {
                headers.push(("Content-Type", content_type));
            }
            cgi::respond_with_headers(response.status, &headers, &response.body);
        }
        Err(error) => cgi::respond(502, "text/plain; charset=utf-8", error.message.as_bytes()),
    }
}
