// {{name}}: a wfn function over the key-value store "default" ([kv] stores in wfn.toml):
//
//	GET    /<key>          the value (200), or 404 when absent or expired
//	PUT    /<key>[?ttl=S]  stores the request body (201); ttl: seconds until it expires
//	DELETE /<key>          removes it (204)
//	GET    /?prefix=P      the keys starting with P, as a JSON array in byte order
//
// Values are bytes, up to 25 MiB; keys up to 512 bytes (docs/contract.md).
package main

import (
	"errors"
	"strconv"
	"strings"

	"{{name}}/kv"
)

func fail(err error) {
	status := 500
	var kvErr *kv.Error
	if errors.As(err, &kvErr) {
		switch kvErr.Code {
		case kv.Invalid:
			status = 400
		case kv.TooLarge:
			status = 413
		case kv.Limit:
			status = 429
		case kv.Unavailable:
			status = 503
		}
	}
	respond(status, "text/plain; charset=utf-8", []byte(err.Error()+"\n"))
}

func main() {
	store, err := kv.Open("default")
	if err != nil {
		fail(err)
		return
	}
	method := requestVar("REQUEST_METHOD")
	key := strings.TrimPrefix(requestVar("PATH_INFO"), "/")
	query := requestVar("QUERY_STRING")

	if key == "" {
		if method != "GET" {
			respond(405, "text/plain; charset=utf-8", []byte("use GET /?prefix=P to list keys\n"))
			return
		}
		prefix, _ := queryValue(query, "prefix")
		keys, err := store.ListAll(prefix)
		if err != nil {
			fail(err)
			return
		}
		json := []byte{'['}
		for i, k := range keys {
			if i > 0 {
				json = append(json, ',')
			}
			json = appendJSONString(json, k)
		}
		respond(200, "application/json", append(json, ']'))
		return
	}

	switch method {
	case "GET", "HEAD":
		value, found, err := store.Get(key)
		switch {
		case err != nil:
			fail(err)
		case !found:
			respond(404, "text/plain; charset=utf-8", []byte("not found\n"))
		default:
			respond(200, "application/octet-stream", value)
		}
	case "PUT":
		ttl := uint64(0)
		if text, ok := queryValue(query, "ttl"); ok {
			if ttl, err = strconv.ParseUint(text, 10, 32); err != nil {
				respond(400, "text/plain; charset=utf-8", []byte("ttl must be a whole number of seconds\n"))
				return
			}
		}
		if err := store.Set(key, readBody(), uint32(ttl)); err != nil {
			fail(err)
			return
		}
		respond(201, "text/plain; charset=utf-8", nil)
	case "DELETE":
		if err := store.Delete(key); err != nil {
			fail(err)
			return
		}
		respond(204, "text/plain; charset=utf-8", nil)
	default:
		respond(405, "text/plain; charset=utf-8", []byte("use GET, PUT or DELETE\n"))
	}
}
