// The CGI side of a wfn function: the request comes in environment variables
// (REQUEST_METHOD, PATH_INFO, QUERY_STRING, HTTP_*) and on stdin; the response
// goes to stdout as a header block, a blank line, then the body.
// Standard library only: the function builds offline with any Go >= 1.21.

package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// requestVar is a request variable such as "REQUEST_METHOD" or "PATH_INFO"; "" when unset.
func requestVar(name string) string {
	return utf8Lossy([]byte(os.Getenv(name)))
}

// readBody reads the request body (stdin), all of it.
func readBody() []byte {
	body, err := io.ReadAll(os.Stdin)
	if err != nil {
		panic(fmt.Sprintf("reading the request body: %v", err))
	}
	return body
}

type queryParam struct{ name, value string }

// parseQuery splits QUERY_STRING into (name, value) pairs, decoded the way a
// browser's URLSearchParams does: split on '&', '+' is a space, %XX escapes are
// bytes, the bytes are UTF-8. Names keep the order of their first appearance;
// a repeated name keeps its last value.
func parseQuery(query string) []queryParam {
	var params []queryParam
next:
	for _, piece := range strings.Split(query, "&") {
		if piece == "" {
			continue
		}
		name, value := piece, ""
		if at := strings.IndexByte(piece, '='); at >= 0 {
			name, value = piece[:at], piece[at+1:]
		}
		name, value = decodeComponent(name), decodeComponent(value)
		for i := range params {
			if params[i].name == name {
				params[i].value = value
				continue next
			}
		}
		params = append(params, queryParam{name, value})
	}
	return params
}

// queryValue is the last value of query parameter name, if present.
func queryValue(query, name string) (string, bool) {
	for _, param := range parseQuery(query) {
		if param.name == name {
			return param.value, true
		}
	}
	return "", false
}

// decodeComponent does form-urlencoded decoding: '+' -> ' ', %XX -> byte (a
// malformed escape stays as written), then UTF-8 with U+FFFD for invalid bytes.
func decodeComponent(text string) string {
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); i++ {
		switch {
		case text[i] == '%' && i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]):
			out = append(out, unhex(text[i+1])<<4|unhex(text[i+2]))
			i += 2
		case text[i] == '+':
			out = append(out, ' ')
		default:
			out = append(out, text[i])
		}
	}
	return utf8Lossy(out)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// utf8Lossy decodes UTF-8 the way browsers (TextDecoder) and Rust do: each
// maximal invalid subsequence becomes one U+FFFD. (strings.ToValidUTF8 merges
// whole runs and utf8.DecodeRune splits them, so neither matches.)
func utf8Lossy(b []byte) string {
	var out strings.Builder
	out.Grow(len(b))
	for i := 0; i < len(b); {
		c := b[i]
		if c < 0x80 {
			out.WriteByte(c)
			i++
			continue
		}
		need, lo, hi := 0, byte(0x80), byte(0xBF)
		switch {
		case c >= 0xC2 && c <= 0xDF:
			need = 1
		case c == 0xE0:
			need, lo = 2, 0xA0
		case c == 0xED:
			need, hi = 2, 0x9F
		case c >= 0xE1 && c <= 0xEF:
			need = 2
		case c == 0xF0:
			need, lo = 3, 0x90
		case c == 0xF4:
			need, hi = 3, 0x8F
		case c >= 0xF1 && c <= 0xF3:
			need = 3
		}
		j := i + 1
		for k := 0; k < need && j < len(b) && b[j] >= lo && b[j] <= hi; k++ {
			j++
			lo, hi = 0x80, 0xBF // only the second byte has a narrower range
		}
		if need > 0 && j-i == need+1 {
			out.Write(b[i:j])
		} else {
			out.WriteString("\uFFFD")
		}
		i = j
	}
	return out.String()
}

// appendJSONString appends text as a JSON string literal, escaped exactly as
// JavaScript's JSON.stringify does it (encoding/json also escapes <, >, & and
// U+2028/U+2029, which would make the answer differ from other languages').
func appendJSONString(dst []byte, text string) []byte {
	const hexDigits = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '"':
			dst = append(dst, '\\', '"')
		case c == '\\':
			dst = append(dst, '\\', '\\')
		case c == '\b':
			dst = append(dst, '\\', 'b')
		case c == '\f':
			dst = append(dst, '\\', 'f')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		default:
			dst = append(dst, c) // UTF-8 bytes pass through unchanged
		}
	}
	return append(dst, '"')
}

var reasons = map[int]string{
	200: "OK",
	201: "Created",
	204: "No Content",
	400: "Bad Request",
	404: "Not Found",
	405: "Method Not Allowed",
	413: "Payload Too Large",
	429: "Too Many Requests",
	500: "Internal Server Error",
	502: "Bad Gateway",
	503: "Service Unavailable",
}

// respond writes the whole response to stdout in one go. Status 200 needs no Status header.
func respond(status int, contentType string, body []byte) {
	respondWithHeaders(status, [][2]string{{"Content-Type", contentType}}, body)
}

// respondWithHeaders is respond with any header lines (a name may repeat; line breaks in values are dropped).
func respondWithHeaders(status int, headers [][2]string, body []byte) {
	head := ""
	for _, h := range headers {
		head += h[0] + ": " + strings.NewReplacer("\r", "", "\n", "").Replace(h[1]) + "\n"
	}
	if status != 200 {
		head += strings.TrimRight(fmt.Sprintf("Status: %d %s", status, reasons[status]), " ") + "\n"
	}
	response := append([]byte(head+"\n"), body...)
	if _, err := os.Stdout.Write(response); err != nil {
		panic(fmt.Sprintf("writing the response: %v", err))
	}
}
