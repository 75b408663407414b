// {{name}}: a wfn function that serves the files of public/ (wfn.toml `[files]` maps it to
// "/", read-only, inside the artifact) with the plain `os` package: the content type by
// extension, an ETag and 304 on If-None-Match, single byte ranges (206/416), 404 for a
// missing file, 400 for a path with ".." or "\", index.html for a folder.
//
// Try it: `wfn dev`, then `curl -i localhost:8787/` and `curl -i -r 0-9 localhost:8787/style.css`.
package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

const textPlain = "text/plain; charset=utf-8"

func main() {
	method := requestVar("REQUEST_METHOD")
	if method != "GET" && method != "HEAD" {
		respondWithHeaders(405, [][2]string{{"Allow", "GET, HEAD"}, {"Content-Type", textPlain}}, []byte("Method Not Allowed\n"))
		return
	}
	path, ok := filePath(requestVar("PATH_INFO"))
	if !ok {
		respond(400, textPlain, []byte("Bad Request\n"))
		return
	}
	path, info, ok := openPath(path)
	if !ok {
		respond(404, textPlain, []byte("Not Found\n"))
		return
	}
	serve(method, path, info)
}

// filePath is the file for PATH_INFO (already percent-decoded by the host); false when it
// tries to leave the folder: a ".." part (also "%2e%2e", decoded) or a backslash.
func filePath(pathInfo string) (string, bool) {
	if strings.ContainsAny(pathInfo, "\\\x00") {
		return "", false
	}
	for _, part := range strings.Split(pathInfo, "/") {
		if part == ".." {
			return "", false
		}
	}
	path := "/" + strings.TrimLeft(pathInfo, "/")
	if strings.HasSuffix(path, "/") {
		path += "index.html"
	}
	return path, true
}

// openPath stats the file; a folder serves its index.html.
func openPath(path string) (string, os.FileInfo, bool) {
	info, err := os.Stat(path)
	if err != nil {
		return "", nil, false
	}
	if info.IsDir() {
		path = strings.TrimRight(path, "/") + "/index.html"
		if info, err = os.Stat(path); err != nil {
			return "", nil, false
		}
	}
	if !info.Mode().IsRegular() {
		return "", nil, false
	}
	return path, info, true
}

func serve(method, path string, info os.FileInfo) {
	size := info.Size()
	// Size and modification time, as nginx does: the same files give the same tag on every target.
	etag := fmt.Sprintf("\"%x-%x\"", size, info.ModTime().UnixNano())
	if inm := requestVar("HTTP_IF_NONE_MATCH"); inm != "" && etagMatches(inm, etag) {
		respondWithHeaders(304, [][2]string{{"ETag", etag}}, nil)
		return
	}
	kind, start, end := parseRange(requestVar("HTTP_RANGE"), size)
	if ifRange := requestVar("HTTP_IF_RANGE"); ifRange != "" && ifRange != etag {
		kind = rangeWhole
	}
	status, length := 200, size
	headers := [][2]string{{"Content-Type", contentType(path)}}
	switch kind {
	case rangeUnsatisfiable:
		respondWithHeaders(416, [][2]string{{"Content-Range", fmt.Sprintf("bytes */%d", size)}, {"Content-Type", textPlain}}, []byte("Range Not Satisfiable\n"))
		return
	case rangePart:
		status, length = 206, end-start+1
	default:
		start = 0
	}
	headers = append(headers, [2]string{"Content-Length", strconv.FormatInt(length, 10)}, [2]string{"ETag", etag}, [2]string{"Accept-Ranges", "bytes"})
	if status == 206 {
		headers = append(headers, [2]string{"Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, size)})
	}
	head := ""
	for _, h := range headers {
		head += h[0] + ": " + h[1] + "\n"
	}
	if status == 206 {
		head += "Status: 206 Partial Content\n"
	}
	if _, err := os.Stdout.WriteString(head + "\n"); err != nil {
		panic(err)
	}
	if method == "HEAD" {
		return
	}
	file, err := os.Open(path)
	if err != nil {
		panic(err)
	}
	defer file.Close()
	if _, err := file.Seek(start, io.SeekStart); err != nil {
		panic(err)
	}
	if _, err := io.CopyN(os.Stdout, file, length); err != nil {
		panic(err)
	}
}

func etagMatches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || tag == etag || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}

const (
	rangeWhole = iota
	rangePart
	rangeUnsatisfiable
)

// parseRange reads one "bytes=" range (first-last, first-, -suffix); several ranges or a
// malformed header are answered with the whole file, as RFC 9110 allows.
func parseRange(header string, size int64) (int, int64, int64) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(header), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return rangeWhole, 0, 0
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return rangeWhole, 0, 0
	}
	number := func(text string) (int64, bool) {
		if text == "" || strings.TrimLeft(text, "0123456789") != "" {
			return 0, false
		}
		n, err := strconv.ParseInt(text, 10, 64)
		return n, err == nil
	}
	if first == "" {
		suffix, ok := number(last)
		if !ok {
			return rangeWhole, 0, 0
		}
		if suffix == 0 || size == 0 {
			return rangeUnsatisfiable, 0, 0
		}
		if suffix > size {
			suffix = size
		}
		return rangePart, size - suffix, size - 1
	}
	start, ok := number(first)
	if !ok {
		return rangeWhole, 0, 0
	}
	end := size - 1
	if last != "" {
		n, ok := number(last)
		if !ok {
			return rangeWhole, 0, 0
		}
		if n < start {
			return rangeWhole, 0, 0
		}
		if n < end {
			end = n
		}
	}
	if start >= size {
		return rangeUnsatisfiable, 0, 0
	}
	return rangePart, start, end
}

func contentType(path string) string {
	name := path[strings.LastIndex(path, "/")+1:]
	ext := ""
	if dot := strings.LastIndex(name, "."); dot >= 0 {
		ext = strings.ToLower(name[dot+1:])
	}
	switch ext {
	case "html", "htm":
		return "text/html; charset=utf-8"
	case "css":
		return "text/css; charset=utf-8"
	case "js", "mjs":
		return "text/javascript; charset=utf-8"
	case "json", "map":
		return "application/json"
	case "txt":
		return textPlain
	case "xml":
		return "application/xml"
	case "svg":
		return "image/svg+xml"
	case "png":
		return "image/png"
	case "jpg", "jpeg":
		return "image/jpeg"
	case "gif":
		return "image/gif"
	case "webp":
		return "image/webp"
	case "avif":
		return "image/avif"
	case "ico":
		return "image/x-icon"
	case "wasm":
		return "application/wasm"
	case "pdf":
		return "application/pdf"
	case "woff":
		return "font/woff"
	case "woff2":
		return "font/woff2"
	case "mp4":
		return "video/mp4"
	}
	return "application/octet-stream"
}
