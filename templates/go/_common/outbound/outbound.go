// Package outbound makes HTTP requests from a wfn function, over wfn's host API
// wfn_http_v1 (docs/contract.md). A call blocks until the response is in; failures
// are errors (*outbound.Error), never a panic. Only origins listed in
// `[outbound] allow` of wfn.toml can be called.
//
//	resp, err := outbound.Send(&outbound.Request{Method: "GET", URL: "https://api.example.com/v1"})
//
// (net/http's client does not work on wasip1: it has no sockets.)
package outbound

import "unsafe"

//go:wasmimport wfn_http_v1 send
func hostSend(methodPtr unsafe.Pointer, methodLen uint32, urlPtr unsafe.Pointer, urlLen uint32, headersPtr unsafe.Pointer, headersLen uint32, bodyPtr unsafe.Pointer, bodyLen uint32, flags uint32, handleOut unsafe.Pointer) uint32

//go:wasmimport wfn_http_v1 status
func hostStatus(handle uint32, statusOut unsafe.Pointer) uint32

//go:wasmimport wfn_http_v1 headers
func hostHeaders(handle uint32, bufPtr unsafe.Pointer, bufLen uint32, writtenOut unsafe.Pointer) uint32

//go:wasmimport wfn_http_v1 body_read
func hostBodyRead(handle uint32, bufPtr unsafe.Pointer, bufLen uint32, readOut unsafe.Pointer) uint32

//go:wasmimport wfn_http_v1 close
func hostClose(handle uint32) uint32

//go:wasmimport wfn_http_v1 error_message
func hostErrorMessage(bufPtr unsafe.Pointer, bufLen uint32, writtenOut unsafe.Pointer) uint32

const (
	followRedirects = 1
	bufferTooSmall  = 7
)

// Code says what went wrong, as the host's error codes say it.
type Code uint32

const (
	Denied      Code = 1 // the origin is not in [outbound] allow of wfn.toml
	Unreachable Code = 2 // DNS, connection refused or reset, TLS
	Timeout     Code = 3 // the per-call timeout ([outbound] timeout_ms) passed
	TooLarge    Code = 4 // the response body is over [outbound] max_response_bytes
	Invalid     Code = 5 // a bad method, URL or header
	Limit       Code = 8 // more calls in one request than [outbound] max_calls
	Failed      Code = 9 // anything else; the message says what
)

// Error is a failed call: its code and the host's message (naming the origin and the reason).
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.Message }

// Header is one header line; a name may repeat.
type Header struct{ Name, Value string }

// Request is an outbound request. Redirects are followed (up to 20, each hop checked
// against the allow list) unless NoRedirects is set.
type Request struct {
	Method      string
	URL         string
	Headers     []Header
	Body        []byte
	NoRedirects bool
}

// Response is the upstream's answer: headers have lower-case names, repeated names kept.
type Response struct {
	Status  int
	Headers []Header
	Body    []byte
}

// Get returns the first value of header name (give it in lower case).
func (r *Response) Get(name string) (string, bool) {
	for _, h := range r.Headers {
		if h.Name == name {
			return h.Value, true
		}
	}
	return "", false
}

func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// Send sends the request and reads the whole response.
func Send(req *Request) (*Response, error) {
	var lines []byte
	for _, h := range req.Headers {
		for i := 0; i < len(h.Value); i++ {
			if h.Value[i] == '\n' || h.Value[i] == '\r' {
				return nil, &Error{Invalid, "outbound request invalid: header \"" + h.Name + "\" holds a line break"}
			}
		}
		lines = append(append(append(append(lines, h.Name...), ": "...), h.Value...), '\n')
	}
	method, url := []byte(req.Method), []byte(req.URL)
	var flags uint32 = followRedirects
	if req.NoRedirects {
		flags = 0
	}
	var handle uint32
	code := hostSend(ptr(method), uint32(len(method)), ptr(url), uint32(len(url)), ptr(lines), uint32(len(lines)), ptr(req.Body), uint32(len(req.Body)), flags, unsafe.Pointer(&handle))
	if code != 0 {
		return nil, lastError(code)
	}
	defer hostClose(handle)
	return readResponse(handle)
}

func readResponse(handle uint32) (*Response, error) {
	var status uint32
	if code := hostStatus(handle, unsafe.Pointer(&status)); code != 0 {
		return nil, lastError(code)
	}
	raw, code := readSized(func(p unsafe.Pointer, n uint32, written unsafe.Pointer) uint32 { return hostHeaders(handle, p, n, written) })
	if code != 0 {
		return nil, lastError(code)
	}
	resp := &Response{Status: int(status), Headers: parseHeaderLines(raw)}
	chunk := make([]byte, 64*1024)
	for {
		var read uint32
		if code := hostBodyRead(handle, ptr(chunk), uint32(len(chunk)), unsafe.Pointer(&read)); code != 0 {
			return nil, lastError(code)
		}
		if read == 0 {
			return resp, nil
		}
		resp.Body = append(resp.Body, chunk[:read]...)
	}
}

func parseHeaderLines(raw []byte) []Header {
	var headers []Header
	start := 0
	for i := 0; i <= len(raw); i++ {
		if i < len(raw) && raw[i] != '\n' {
			continue
		}
		line := string(raw[start:i])
		start = i + 1
		for c := 0; c < len(line); c++ {
			if line[c] == ':' {
				value := line[c+1:]
				for len(value) > 0 && (value[0] == ' ' || value[0] == '\t') {
					value = value[1:]
				}
				headers = append(headers, Header{line[:c], value})
				break
			}
		}
	}
	return headers
}

// readSized calls a host function that fills a buffer, again with a bigger one on BUFFER_TOO_SMALL.
func readSized(call func(p unsafe.Pointer, n uint32, written unsafe.Pointer) uint32) ([]byte, uint32) {
	buf := make([]byte, 1024)
	for {
		var written uint32
		code := call(ptr(buf), uint32(len(buf)), unsafe.Pointer(&written))
		if code == bufferTooSmall {
			buf = make([]byte, written)
			continue
		}
		if code != 0 {
			return nil, code
		}
		return buf[:written], 0
	}
}

func lastError(code uint32) error {
	message, failed := readSized(hostErrorMessage)
	if failed != 0 {
		message = []byte("outbound request failed")
	}
	return &Error{Code(code), string(message)}
}
