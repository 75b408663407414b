// {{name}}: a wfn function that proxies every request to the origin in the variable
// UPSTREAM: it requests UPSTREAM + the incoming path and query (same method, body and
// headers), then answers with the upstream's status, content type and body, plus
// x-upstream-status. When the call fails (denied, unreachable, timeout) it answers 502
// with the error's message.
//
// The origin must be allowed in wfn.toml: [outbound] allow = ["https://api.example.com"].
package main

import (
	"os"
	"strconv"
	"strings"

	"{{name}}/outbound"
)

// notForwarded: request headers that describe this hop, not the request (the host sets its own).
var notForwarded = map[string]bool{"host": true, "content-length": true, "connection": true, "keep-alive": true, "transfer-encoding": true, "upgrade": true, "te": true, "trailer": true}

func main() {
	upstream := requestVar("UPSTREAM")
	if upstream == "" {
		respond(500, "text/plain; charset=utf-8", []byte("UPSTREAM is not set: add it to [env] in wfn.toml\n"))
		return
	}
	url := strings.TrimRight(upstream, "/") + requestVar("X_RAW_PATH_INFO")
	if query := requestVar("QUERY_STRING"); query != "" {
		url += "?" + query
	}

	req := &outbound.Request{Method: requestVar("REQUEST_METHOD"), URL: url, Body: readBody()}
	if contentType := requestVar("CONTENT_TYPE"); contentType != "" {
		req.Headers = append(req.Headers, outbound.Header{Name: "content-type", Value: contentType})
	}
	for _, pair := range os.Environ() {
		name, value, _ := strings.Cut(pair, "=")
		if rest, ok := strings.CutPrefix(name, "HTTP_"); ok {
			header := strings.ReplaceAll(strings.ToLower(rest), "_", "-")
			if !notForwarded[header] {
				req.Headers = append(req.Headers, outbound.Header{Name: header, Value: value})
			}
		}
	}

	resp, err := outbound.Send(req)
	if err != nil {
		respond(502, "text/plain; charset=utf-8", []byte(err.Error()))
		return
	}
	headers := [][2]string{{"x-upstream-status", strconv.Itoa(resp.Status)}}
	if contentType, ok := resp.Get("content-type"); ok {
		headers = append(headers, [2]string{"Content-Type", contentType})
	}
	respondWithHeaders(resp.Status, headers, resp.Body)
}
