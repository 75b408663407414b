// Package kv keeps state in key-value stores from a wfn function, over wfn's host API
// wfn_kv_v1 (docs/contract.md). Calls block until the store answers; failures are errors
// (*kv.Error), never a panic. Only the stores named in `[kv] stores` of wfn.toml can be opened.
//
//	store, err := kv.Open("default")
//	err = store.Set("greeting", []byte("hello"), 0) // 0: no expiry; else a TTL in seconds
//	value, found, err := store.Get("greeting")
//	keys, err := store.ListAll("gre") // byte order, as Workers KV lists
package kv

import (
	"strings"
	"unsafe"
)

//go:wasmimport wfn_kv_v1 open
func hostOpen(namePtr unsafe.Pointer, nameLen uint32, storeOut unsafe.Pointer) uint32

//go:wasmimport wfn_kv_v1 get
func hostGet(store uint32, keyPtr unsafe.Pointer, keyLen uint32, valueOut unsafe.Pointer, lenOut unsafe.Pointer) uint32

//go:wasmimport wfn_kv_v1 read
func hostRead(value uint32, bufPtr unsafe.Pointer, bufLen uint32, readOut unsafe.Pointer) uint32

//go:wasmimport wfn_kv_v1 close
func hostClose(value uint32) uint32

//go:wasmimport wfn_kv_v1 set
func hostSet(store uint32, keyPtr unsafe.Pointer, keyLen uint32, valuePtr unsafe.Pointer, valueLen uint32, ttlSeconds uint32) uint32

//go:wasmimport wfn_kv_v1 delete
func hostDelete(store uint32, keyPtr unsafe.Pointer, keyLen uint32) uint32

//go:wasmimport wfn_kv_v1 list
func hostList(store uint32, prefixPtr unsafe.Pointer, prefixLen uint32, cursorPtr unsafe.Pointer, cursorLen uint32, limit uint32, valueOut unsafe.Pointer, lenOut unsafe.Pointer) uint32

//go:wasmimport wfn_kv_v1 error_message
func hostErrorMessage(bufPtr unsafe.Pointer, bufLen uint32, writtenOut unsafe.Pointer) uint32

const (
	notFound       = 1
	bufferTooSmall = 6
)

// Code says what went wrong, as the host's error codes say it.
type Code uint32

const (
	Denied      Code = 2 // the store is not in [kv] stores of wfn.toml
	Invalid     Code = 3 // a bad key (empty, over 512 bytes, newline or NUL, "." or ".."), prefix or cursor
	TooLarge    Code = 4 // a value over 25 MiB
	BadHandle   Code = 5 // a handle that is not open
	Limit       Code = 7 // more than 1000 operations in one request, or too many values left open
	Unavailable Code = 8 // the store behind could not be reached
	Failed      Code = 9 // anything else; the message says what
)

// Error is a failed call: its code and the host's message (naming the store and the reason).
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return e.Message }

// Store is an open store.
type Store struct{ handle uint32 }

// Page is one page of List: the keys, and the cursor of the next page ("" on the last one).
type Page struct {
	Keys   []string
	Cursor string
}

// bytesOf points at a string's bytes without copying (the host only reads them during the call).
func bytesOf(s string) unsafe.Pointer {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Pointer(unsafe.StringData(s))
}

func ptr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}

// Open opens a store named in [kv] stores of wfn.toml.
func Open(name string) (*Store, error) {
	var handle uint32
	if err := check(hostOpen(bytesOf(name), uint32(len(name)), unsafe.Pointer(&handle))); err != nil {
		return nil, err
	}
	return &Store{handle: handle}, nil
}

// Get returns the value of key; found is false when it is absent or expired.
func (s *Store) Get(key string) (value []byte, found bool, err error) {
	var handle, length uint32
	code := hostGet(s.handle, bytesOf(key), uint32(len(key)), unsafe.Pointer(&handle), unsafe.Pointer(&length))
	if code == notFound {
		return nil, false, nil
	}
	if err := check(code); err != nil {
		return nil, false, err
	}
	value, err = readValue(handle, length)
	return value, err == nil, err
}

// Set stores value under key (overwrites). ttlSeconds 0: no expiry.
func (s *Store) Set(key string, value []byte, ttlSeconds uint32) error {
	return check(hostSet(s.handle, bytesOf(key), uint32(len(key)), ptr(value), uint32(len(value)), ttlSeconds))
}

// Delete removes key (fine when it is absent).
func (s *Store) Delete(key string) error {
	return check(hostDelete(s.handle, bytesOf(key), uint32(len(key))))
}

// List returns one page of the keys starting with prefix, in byte order; limit 0 means 1000.
func (s *Store) List(prefix, cursor string, limit uint32) (*Page, error) {
	var handle, length uint32
	if err := check(hostList(s.handle, bytesOf(prefix), uint32(len(prefix)), bytesOf(cursor), uint32(len(cursor)), limit, unsafe.Pointer(&handle), unsafe.Pointer(&length))); err != nil {
		return nil, err
	}
	raw, err := readValue(handle, length)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(raw), "\n")
	page := &Page{Cursor: lines[0]}
	for _, line := range lines[1:] {
		if line != "" {
			page.Keys = append(page.Keys, line)
		}
	}
	return page, nil
}

// ListAll returns every key starting with prefix, page after page.
func (s *Store) ListAll(prefix string) ([]string, error) {
	keys := []string{}
	cursor := ""
	for {
		page, err := s.List(prefix, cursor, 0)
		if err != nil {
			return nil, err
		}
		keys = append(keys, page.Keys...)
		if page.Cursor == "" {
			return keys, nil
		}
		cursor = page.Cursor
	}
}

func readValue(handle, length uint32) ([]byte, error) {
	defer hostClose(handle)
	value := make([]byte, length)
	filled := uint32(0)
	for filled < length {
		var read uint32
		if err := check(hostRead(handle, unsafe.Pointer(&value[filled]), length-filled, unsafe.Pointer(&read))); err != nil {
			return nil, err
		}
		if read == 0 {
			break
		}
		filled += read
	}
	return value[:filled], nil
}

func check(code uint32) error {
	if code == 0 {
		return nil
	}
	buf := make([]byte, 512)
	for {
		var written uint32
		status := hostErrorMessage(ptr(buf), uint32(len(buf)), unsafe.Pointer(&written))
		if status == bufferTooSmall {
			buf = make([]byte, written)
			continue
		}
		if status != 0 {
			return &Error{Code: Code(code), Message: "kv call failed"}
		}
		return &Error{Code: Code(code), Message: string(buf[:written])}
	}
}
