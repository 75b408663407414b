;; wfn's outbound HTTP host API (`wfn_http_v1`, docs/contract.md) on Fastly hostcalls.
;;
;; A fragment of adapter.wat, spliced in by adapter-module.ts only for a function that imports
;; wfn_http_v1 (merge.ts renames its imports to wasi_snapshot_preview1."wfn_http_v1.<name>",
;; which this code exports). The part above the @@code line goes among the adapter's imports;
;; the host-independent half, src/pipeline/outbound-checks.wat (shared with the component
;; bridge), follows this code.
;;
;; It behaves as src/runtime/outbound (imports.ts, fetch.ts) does on the Node hosts, with the
;; same messages (src/pipeline/outbound-values.ts takes them from messages.ts): a call is counted, checked
;; (method, URL, header lines, flags), its URL normalized in $am and matched against the
;; [outbound] allow list compiled in at package time; a dynamic backend is registered for its
;; origin (once per instance: fastly_backend.exists first); then send_async,
;; fastly_async_io.select (the per-call deadline) and pending_req_wait_v2, as @fastly/js-compute's
;; fetch does. Redirects are followed here, each hop checked again. The body streams from the
;; host into the function's buffers, each read bounded by the same deadline (select again).
;; Errors are codes, never traps, with a message for error_message and one line on stderr.

  (import "wasi_real" "clock_time_get" (func $ob_clock (param i32 i64 i32) (result i32)))
  (import "fastly_http_req" "new" (func $ob_req_new (param i32) (result i32)))
  (import "fastly_http_req" "method_set" (func $ob_req_method_set (param i32 i32 i32) (result i32)))
  (import "fastly_http_req" "uri_set" (func $ob_req_uri_set (param i32 i32 i32) (result i32)))
  (import "fastly_http_req" "header_append" (func $ob_req_header_append (param i32 i32 i32 i32 i32) (result i32)))
  (import "fastly_http_req" "auto_decompress_response_set" (func $ob_req_auto_decompress (param i32 i32) (result i32)))
  (import "fastly_http_req" "register_dynamic_backend" (func $ob_register_backend (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "fastly_http_req" "send_async" (func $ob_send_async (param i32 i32 i32 i32 i32) (result i32)))
  (import "fastly_http_req" "pending_req_wait_v2" (func $ob_pending_wait (param i32 i32 i32 i32) (result i32)))
  (import "fastly_async_io" "select" (func $ob_select (param i32 i32 i32 i32) (result i32)))
  (import "fastly_backend" "exists" (func $ob_backend_exists (param i32 i32 i32) (result i32)))
  (import "fastly_http_resp" "status_get" (func $ob_resp_status_get (param i32 i32) (result i32)))
  (import "fastly_http_resp" "header_names_get" (func $ob_resp_header_names_get (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "fastly_http_resp" "header_values_get" (func $ob_resp_header_values_get (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "fastly_http_body" "close" (func $ob_body_close (param i32) (result i32)))

;; @@code

  ;; Error codes (outbound-abi): 0 ok, 1 denied, 2 unreachable, 3 timeout, 4 too large,
  ;; 5 invalid, 6 bad handle, 7 buffer too small, 8 limit, 9 failed.

  ;; Regions of $am reserved by $ob_init (after the environment, before the CGI header block).
  (global $ob_io (mut i32) (i32.const 0))       ;; 64 bytes: out-parameters, the select list, clock
  (global $ob_detail (mut i32) (i32.const 0))   ;; 32 bytes: $send_error_detail
  (global $ob_cfg (mut i32) (i32.const 0))      ;; 128 bytes: $dynamic_backend_config
  (global $ob_msg (mut i32) (i32.const 0))      ;; 1024 bytes: the last error's message
  (global $ob_msg_len (mut i32) (i32.const 0))
  (global $ob_method (mut i32) (i32.const 0))   ;; 64 bytes
  (global $ob_method_len (mut i32) (i32.const 0))
  (global $ob_name (mut i32) (i32.const 0))     ;; 320 bytes: backend name
  (global $ob_name_len (mut i32) (i32.const 0))
  (global $ob_target (mut i32) (i32.const 0))   ;; 320 bytes: "host:port"
  (global $ob_target_len (mut i32) (i32.const 0))
  (global $ob_first (mut i32) (i32.const 0))    ;; 320 bytes: the first hop's origin
  (global $ob_first_len (mut i32) (i32.const 0))
  (global $ob_raw (mut i32) (i32.const 0))      ;; 8192 bytes: the URL as given (or resolved)
  (global $ob_raw_len (mut i32) (i32.const 0))
  (global $ob_url (mut i32) (i32.const 0))      ;; 3 * 8192 + 64 bytes: the normalized URL
  (global $ob_url_len (mut i32) (i32.const 0))
  (global $ob_policy (mut i32) (i32.const 0))   ;; the allow list
  ;; {{OB_MAX_CALLS}} entries of 360 bytes (outbound-checks.wat): resp at 0, body at 4
  (global $ob_handles (mut i32) (i32.const 0))
  (global $ob_nhandles (mut i32) (i32.const 0))
  (global $ob_scratch (mut i32) (i32.const 0))  ;; beyond the CGI header block's room: grows freely
  (global $ob_calls (mut i32) (i32.const 0))
  ;; The call in progress.
  (global $ob_body_ptr (mut i32) (i32.const 0))
  (global $ob_body_len (mut i32) (i32.const 0))
  (global $ob_hops (mut i32) (i32.const 0))
  (global $ob_deadline (mut i64) (i64.const 0))
  ;; The call's timeout: [outbound] timeout_ms, or the function's own (flags bits 8-31) when shorter.
  (global $ob_call_ms (mut i32) (i32.const 0))
  (global $ob_own_timeout (mut i32) (i32.const 0))
  (global $ob_drop_body_headers (mut i32) (i32.const 0))
  (global $ob_drop_credentials (mut i32) (i32.const 0))

  ;; The current hop's URL, parsed (offsets into $ob_url).
  (global $u_https (mut i32) (i32.const 0))
  (global $u_host (mut i32) (i32.const 0))
  (global $u_host_len (mut i32) (i32.const 0))
  (global $u_auth_len (mut i32) (i32.const 0))  ;; host[:port] as in the URL (from $u_host)
  (global $u_port (mut i32) (i32.const 0))
  (global $u_path (mut i32) (i32.const 0))      ;; path and query, up to the end of $ob_url
  ;; The current hop's response.
  (global $ob_resp (mut i32) (i32.const 0))
  (global $ob_rbody (mut i32) (i32.const 0))
  (global $ob_status (mut i32) (i32.const 0))

  (data $ob_policy_data "{{OB_POLICY}}")

  (func $ob_init
    (local $a i32)
    (local.set $a (global.get $arena))
    (global.set $ob_io (local.get $a))
    (global.set $ob_detail (i32.add (local.get $a) (i32.const 64)))
    (global.set $ob_cfg (i32.add (local.get $a) (i32.const 96)))
    (global.set $ob_msg (i32.add (local.get $a) (i32.const 224)))
    (global.set $ob_method (i32.add (local.get $a) (i32.const 1248)))
    (global.set $ob_name (i32.add (local.get $a) (i32.const 1312)))
    (global.set $ob_target (i32.add (local.get $a) (i32.const 1632)))
    (global.set $ob_first (i32.add (local.get $a) (i32.const 1952)))
    (global.set $ob_raw (i32.add (local.get $a) (i32.const 2272)))
    (global.set $ob_url (i32.add (local.get $a) (i32.const 10464)))
    (global.set $ob_policy (i32.add (local.get $a) (i32.const 35104)))
    (global.set $ob_handles (i32.add (global.get $ob_policy) (i32.const {{OB_POLICY_BYTES}})))
    (global.set $arena (i32.add (global.get $ob_handles) (i32.mul (i32.const {{OB_MAX_CALLS}}) (i32.const 360))))
    (call $ensure (global.get $arena))
    (memory.init $am $ob_policy_data (global.get $ob_policy) (i32.const 0) (i32.const {{OB_POLICY_BYTES}}))
    ;; the CGI header block will start at $arena and may take $HDRCAP bytes
    (global.set $ob_scratch (i32.add (global.get $arena) (i32.add (global.get $HDRCAP) (i32.const 16)))))

  ;; ------------------------------------------------------------ small helpers

  ;; Monotonic clock, ns.
  (func $ob_now (result i64)
    (drop (call $ob_clock (i32.const 1) (i64.const 1) (call $abs (i32.add (global.get $ob_io) (i32.const 56)))))
    (i64.load $am offset=56 (global.get $ob_io)))

  ;; Logs the message (one line on stderr, as outboundLogLine) and returns $code.
  (func $ob_fail (param $code i32) (result i32)
    (i32.store $am (global.get $ob_io) (call $abs @off"{{OB_LOG_PREFIX}}"))
    (i32.store $am offset=4 (global.get $ob_io) @len"{{OB_LOG_PREFIX}}")
    (i32.store $am offset=8 (global.get $ob_io) (call $abs (global.get $ob_msg)))
    (i32.store $am offset=12 (global.get $ob_io) (global.get $ob_msg_len))
    (i32.store $am offset=16 (global.get $ob_io) (call $abs @off"\n"))
    (i32.store $am offset=20 (global.get $ob_io) (i32.const 1))
    (drop (call $real_fd_write (i32.const 2) (call $abs (global.get $ob_io)) (i32.const 3)
      (call $abs (i32.add (global.get $ob_io) (i32.const 24)))))
    (local.get $code))

  ;; ------------------------------------------------------------- backends

  (func $ob_name_byte (param $b i32)
    (i32.store8 $am (i32.add (global.get $ob_name) (global.get $ob_name_len)) (local.get $b))
    (global.set $ob_name_len (i32.add (global.get $ob_name_len) (i32.const 1))))

  ;; The dynamic backend of the current hop's origin: named "wfn-http(s)-<host>-<port>" (bytes
  ;; other than [a-z0-9.-] as "_"), target "host:port", TLS with SNI and certificate check on
  ;; the host for https, the per-call timeout as connect/first-byte/between-bytes timeouts.
  ;; Registered unless it exists already. Returns 0, or 9 (failed) with the message written.
  (func $ob_backend (result i32)
    (local $i i32) (local $c i32) (local $st i32) (local $mask i32) (local $cfg i32) (local $host i32)
    (global.set $ob_name_len (i32.const 0))
    (memory.copy $am $am (global.get $ob_name) @lit"wfn-http")
    (global.set $ob_name_len (i32.const 8))
    (if (global.get $u_https) (then (call $ob_name_byte (i32.const 115))))
    (call $ob_name_byte (i32.const 45))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $i) (global.get $u_host_len)))
        (local.set $c (i32.load8_u $am (i32.add (global.get $u_host) (local.get $i))))
        (if (i32.eqz (i32.or (i32.or (i32.eq (local.get $c) (i32.const 45)) (i32.eq (local.get $c) (i32.const 46)))
                             (i32.or (i32.and (i32.ge_u (local.get $c) (i32.const 97)) (i32.le_u (local.get $c) (i32.const 122)))
                                     (i32.and (i32.ge_u (local.get $c) (i32.const 48)) (i32.le_u (local.get $c) (i32.const 57))))))
          (then (local.set $c (i32.const 95))))
        (call $ob_name_byte (local.get $c))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $each)))
    (call $ob_name_byte (i32.const 45))
    (global.set $ob_name_len (i32.add (global.get $ob_name_len)
      (call $ob_dec (i32.add (global.get $ob_name) (global.get $ob_name_len)) (global.get $u_port))))
    (local.set $st (call $ob_backend_exists (call $abs (global.get $ob_name)) (global.get $ob_name_len) (call $abs (global.get $ob_io))))
    (if (i32.and (i32.eqz (local.get $st)) (i32.ne (i32.load $am (global.get $ob_io)) (i32.const 0)))
      (then (return (i32.const 0))))
    ;; target "host:port" (an IPv6 host keeps its brackets)
    (memory.copy $am $am (global.get $ob_target) (global.get $u_host) (global.get $u_host_len))
    (i32.store8 $am (i32.add (global.get $ob_target) (global.get $u_host_len)) (i32.const 58))
    (global.set $ob_target_len (i32.add (i32.add (global.get $u_host_len) (i32.const 1))
      (call $ob_dec (i32.add (global.get $ob_target) (i32.add (global.get $u_host_len) (i32.const 1))) (global.get $u_port))))
    ;; the configuration record
    (local.set $cfg (global.get $ob_cfg))
    (memory.fill $am (local.get $cfg) (i32.const 0) (i32.const 128))
    (local.set $host (call $abs (global.get $u_host)))
    ;; host_override: the Host header, host[:port] as in the URL
    (i32.store $am offset=0 (local.get $cfg) (local.get $host))
    (i32.store $am offset=4 (local.get $cfg) (global.get $u_auth_len))
    (i32.store $am offset=8 (local.get $cfg) (i32.const {{OB_TIMEOUT_MS}}))
    (i32.store $am offset=12 (local.get $cfg) (i32.const {{OB_TIMEOUT_MS}}))
    (i32.store $am offset=16 (local.get $cfg) (i32.const {{OB_TIMEOUT_MS}}))
    ;; $backend_config_options: host_override 2, connect 4, first_byte 8, between_bytes 16
    (local.set $mask (i32.const 30))
    (if (global.get $u_https)
      (then
        ;; use_ssl 32, cert_hostname 256, sni_hostname 2048
        (local.set $mask (i32.or (local.get $mask) (i32.const 2336)))
        (i32.store $am offset=28 (local.get $cfg) (local.get $host))
        (i32.store $am offset=32 (local.get $cfg) (global.get $u_host_len))
        (i32.store $am offset=52 (local.get $cfg) (local.get $host))
        (i32.store $am offset=56 (local.get $cfg) (global.get $u_host_len))))
    (local.set $st (call $ob_register_backend
      (call $abs (global.get $ob_name)) (global.get $ob_name_len)
      (call $abs (global.get $ob_target)) (global.get $ob_target_len)
      (local.get $mask) (call $abs (local.get $cfg))))
    (if (local.get $st)
      (then
        (call $ob_msg_first @lit"{{OB_MSG_FAILED_PRE}}" @lit"{{OB_MSG_FAILED_MID}}")
        (call $ob_msg_bytes @lit"Fastly refused to register a dynamic backend for ")
        (call $ob_msg_origin)
        (call $ob_msg_bytes @lit" (status ")
        (call $ob_msg_u32 (local.get $st))
        (call $ob_msg_bytes @lit"): dynamic backends must be enabled on the service")
        (return (i32.const 9))))
    (i32.const 0))

  ;; ------------------------------------------------------------- one hop

  ;; Appends the function's header lines (checked by $ob_check_headers) to $req, without the
  ;; ones the host owns and, after a redirect, the ones fetch.ts drops.
  (func $ob_append_headers (param $req i32) (param $p i32) (param $len i32) (result i32)
    (local $end i32) (local $ls i32) (local $le i32) (local $colon i32) (local $vs i32) (local $ve i32) (local $nl i32)
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (local.set $ls (local.get $p))
    (block $done
      (loop $line
        (br_if $done (i32.ge_u (local.get $ls) (local.get $end)))
        (local.set $le (local.get $ls))
        (block $eol (loop $scan
          (br_if $eol (i32.ge_u (local.get $le) (local.get $end)))
          (br_if $eol (i32.eq (i32.load8_u $gm (local.get $le)) (i32.const 10)))
          (local.set $le (i32.add (local.get $le) (i32.const 1)))
          (br $scan)))
        (local.set $colon (local.get $ls))
        (block $c_end (loop $c
          (br_if $c_end (i32.eq (i32.load8_u $gm (local.get $colon)) (i32.const 58)))
          (local.set $colon (i32.add (local.get $colon) (i32.const 1)))
          (br $c)))
        (local.set $nl (i32.sub (local.get $colon) (local.get $ls)))
        (local.set $vs (i32.add (local.get $colon) (i32.const 1)))
        (local.set $ve (local.get $le))
        (block $t1 (loop $l1
          (br_if $t1 (i32.ge_u (local.get $vs) (local.get $ve)))
          (br_if $t1 (i32.and (i32.ne (i32.load8_u $gm (local.get $vs)) (i32.const 32)) (i32.ne (i32.load8_u $gm (local.get $vs)) (i32.const 9))))
          (local.set $vs (i32.add (local.get $vs) (i32.const 1)))
          (br $l1)))
        (block $t2 (loop $l2
          (br_if $t2 (i32.ge_u (local.get $vs) (local.get $ve)))
          (br_if $t2 (i32.and (i32.ne (i32.load8_u $gm (i32.sub (local.get $ve) (i32.const 1))) (i32.const 32))
                              (i32.ne (i32.load8_u $gm (i32.sub (local.get $ve) (i32.const 1))) (i32.const 9))))
          (local.set $ve (i32.sub (local.get $ve) (i32.const 1)))
          (br $l2)))
        (block $skip
          (br_if $skip (call $ob_name_in (local.get $ls) (local.get $nl) @lit"{{OB_HOST_OWNED}}"))
          (br_if $skip (i32.and (global.get $ob_drop_body_headers) (call $ob_name_in (local.get $ls) (local.get $nl) @lit"{{OB_BODY_HEADERS}}")))
          (br_if $skip (i32.and (global.get $ob_drop_credentials) (call $ob_name_in (local.get $ls) (local.get $nl) @lit"{{OB_CREDENTIAL_HEADERS}}")))
          ;; the function's memory is at address 0: its pointers are absolute already
          (if (call $ob_req_header_append (local.get $req) (local.get $ls) (local.get $nl)
                (local.get $vs) (i32.sub (local.get $ve) (local.get $vs)))
            (then (return (i32.const 0)))))
        (local.set $ls (i32.add (local.get $le) (i32.const 1)))
        (br $line)))
    (i32.const 1))

  ;; What a failed send tells in $send_error_detail, as a code and the message.
  (func $ob_send_failure (param $st i32) (result i32)
    (local $tag i32)
    (local.set $tag (i32.load $am (global.get $ob_detail)))
    (if (i32.or (i32.eq (local.get $tag) (i32.const 9)) (i32.eq (local.get $tag) (i32.const 16)))
      (then
        (call $ob_msg_timeout (global.get $ob_first) (global.get $ob_first_len) (global.get $ob_call_ms) (global.get $ob_own_timeout))
        (return (i32.const 3))))
    (if (i32.eq (local.get $tag) (i32.const 15))
      (then
        (call $ob_msg_first @lit"{{OB_MSG_TOO_LARGE_PRE}}" @lit"{{OB_MSG_TOO_LARGE_POST}}")
        (return (i32.const 4))))
    (call $ob_msg_first @lit"{{OB_MSG_FAILED_PRE}}" @lit"{{OB_MSG_FAILED_MID}}")
    (block $unreachable
      (if (i32.or (i32.eq (local.get $tag) (i32.const 2)) (i32.eq (local.get $tag) (i32.const 3)))
        (then (call $ob_msg_bytes @lit"host name lookup failed") (br $unreachable)))
      (if (i32.or (i32.eq (local.get $tag) (i32.const 4)) (i32.or (i32.eq (local.get $tag) (i32.const 5)) (i32.eq (local.get $tag) (i32.const 6))))
        (then (call $ob_msg_bytes @lit"host unreachable") (br $unreachable)))
      (if (i32.eq (local.get $tag) (i32.const 7))
        (then (call $ob_msg_bytes @lit"connection refused") (br $unreachable)))
      (if (i32.eq (local.get $tag) (i32.const 8))
        (then (call $ob_msg_bytes @lit"connection closed by the server") (br $unreachable)))
      (if (i32.or (i32.eq (local.get $tag) (i32.const 11)) (i32.or (i32.eq (local.get $tag) (i32.const 12))
            (i32.or (i32.eq (local.get $tag) (i32.const 23)) (i32.eq (local.get $tag) (i32.const 24)))))
        (then (call $ob_msg_bytes @lit"TLS error") (br $unreachable)))
      (if (i32.or (i32.eq (local.get $tag) (i32.const 13)) (i32.or (i32.eq (local.get $tag) (i32.const 14))
            (i32.or (i32.eq (local.get $tag) (i32.const 17)) (i32.or (i32.eq (local.get $tag) (i32.const 18)) (i32.eq (local.get $tag) (i32.const 19))))))
        (then (call $ob_msg_bytes @lit"invalid HTTP response") (return (i32.const 9))))
      (call $ob_msg_bytes @lit"Fastly status ")
      (call $ob_msg_u32 (local.get $st))
      (call $ob_msg_bytes @lit", send error ")
      (call $ob_msg_u32 (local.get $tag))
      (return (i32.const 9)))
    (i32.const 2))

  ;; The end of a response that is not handed on (a redirect, a body too large).
  (func $ob_drop_hop (drop (call $ob_body_close (global.get $ob_rbody))))

  ;; The handles of the response handed on, into its table entry $e.
  (func $ob_keep (param $e i32) (result i32)
    (i32.store $am offset=0 (local.get $e) (global.get $ob_resp))
    (i32.store $am offset=4 (local.get $e) (global.get $ob_rbody))
    (i32.const 0))

  ;; One request to the URL in $ob_raw. On success $ob_resp, $ob_rbody and $ob_status are set.
  (func $ob_hop (param $hp i32) (param $hl i32) (result i32)
    (local $st i32) (local $req i32) (local $body i32) (local $p i32) (local $left i32) (local $n i32) (local $pending i32)
    (if (global.get $ob_hops)
      (then
        (call $ob_msg_first @lit"{{OB_MSG_FAILED_PRE}}" @lit"{{OB_MSG_FAILED_MID}}")
        (call $ob_msg_bytes @lit"redirected to a location that cannot be followed: ")
        (if (i32.eqz (call $ob_parse)) (then (return (i32.const 9))))
        (if (i32.eqz (call $ob_allowed))
          (then
            (call $ob_msg_first @lit"{{OB_MSG_REDIRECT_DENIED_PRE}}" @lit"{{OB_MSG_REDIRECT_DENIED_MID}}")
            (call $ob_msg_origin)
            (call $ob_msg_bytes @lit"{{OB_MSG_REDIRECT_DENIED_POST}}")
            (return (i32.const 1))))))
    (local.set $st (call $ob_backend))
    (if (local.get $st) (then (return (local.get $st))))

    (block $host_error
      (br_if $host_error (call $ob_req_new (call $abs (global.get $ob_io))))
      (local.set $req (i32.load $am (global.get $ob_io)))
      (br_if $host_error (call $ob_req_method_set (local.get $req) (call $abs (global.get $ob_method)) (global.get $ob_method_len)))
      (br_if $host_error (call $ob_req_uri_set (local.get $req) (call $abs (global.get $ob_url)) (global.get $ob_url_len)))
      (br_if $host_error (i32.eqz (call $ob_append_headers (local.get $req) (local.get $hp) (local.get $hl))))
      ;; the body handed on is the decoded body (Fastly decodes gzip)
      (br_if $host_error (call $ob_req_auto_decompress (local.get $req) (i32.const 1)))
      (br_if $host_error (call $body_new (call $abs (global.get $ob_io))))
      (local.set $body (i32.load $am (global.get $ob_io)))
      (local.set $p (global.get $ob_body_ptr))
      (local.set $left (global.get $ob_body_len))
      (block $written
        (loop $more
          (br_if $written (i32.eqz (local.get $left)))
          (br_if $host_error (call $body_write (local.get $body) (local.get $p) (local.get $left) (i32.const 0) (call $abs (global.get $ob_io))))
          (local.set $n (i32.load $am (global.get $ob_io)))
          (br_if $host_error (i32.eqz (local.get $n)))
          (local.set $p (i32.add (local.get $p) (local.get $n)))
          (local.set $left (i32.sub (local.get $left) (local.get $n)))
          (br $more)))
      (memory.fill $am (global.get $ob_detail) (i32.const 0) (i32.const 32))
      (local.set $st (call $ob_send_async (local.get $req) (local.get $body)
        (call $abs (global.get $ob_name)) (global.get $ob_name_len) (call $abs (global.get $ob_io))))
      (if (local.get $st) (then (return (call $ob_send_failure (local.get $st)))))
      (local.set $pending (i32.load $am (global.get $ob_io)))
      ;; the per-call deadline: wait for the response head at most that long
      (local.set $left (call $ob_left_ms (global.get $ob_deadline)))
      (if (local.get $left)
        (then
          (i32.store $am offset=32 (global.get $ob_io) (local.get $pending))
          (br_if $host_error (call $ob_select (call $abs (i32.add (global.get $ob_io) (i32.const 32))) (i32.const 1)
            (local.get $left) (call $abs (global.get $ob_io))))))
      (if (i32.or (i32.eqz (local.get $left)) (i32.eq (i32.load $am (global.get $ob_io)) (i32.const -1)))
        (then
          (call $ob_msg_timeout (global.get $ob_first) (global.get $ob_first_len) (global.get $ob_call_ms) (global.get $ob_own_timeout))
          (return (i32.const 3))))
      ;; $send_error_detail: tag uninitialized, no optional fields asked for
      (memory.fill $am (global.get $ob_detail) (i32.const 0) (i32.const 32))
      (local.set $st (call $ob_pending_wait (local.get $pending) (call $abs (global.get $ob_detail))
        (call $abs (global.get $ob_io)) (call $abs (i32.add (global.get $ob_io) (i32.const 4)))))
      (if (local.get $st) (then (return (call $ob_send_failure (local.get $st)))))
      (global.set $ob_resp (i32.load $am (global.get $ob_io)))
      (global.set $ob_rbody (i32.load $am offset=4 (global.get $ob_io)))
      (br_if $host_error (call $ob_resp_status_get (global.get $ob_resp) (call $abs (global.get $ob_io))))
      (global.set $ob_status (i32.load16_u $am (global.get $ob_io)))
      (return (i32.const 0)))
    (call $ob_msg_first @lit"{{OB_MSG_FAILED_PRE}}" @lit"{{OB_MSG_FAILED_MID}}")
    (call $ob_msg_bytes @lit"a Fastly hostcall failed")
    (i32.const 9))

  ;; The first value of response header [$name, +$len) ($am) at the scratch area; its length, or -1.
  (func $ob_resp_header (param $name i32) (param $len i32) (result i32)
    (local $n i32)
    (call $ensure (i32.add (global.get $ob_scratch) (i32.const 8200)))
    (if (call $ob_resp_header_values_get (global.get $ob_resp) (call $abs (local.get $name)) (local.get $len)
          (call $abs (global.get $ob_scratch)) (i32.const 8192) (i32.const 0)
          (call $abs (i32.add (global.get $ob_io) (i32.const 8))) (call $abs (global.get $ob_io)))
      (then (return (i32.const -1))))
    (local.set $n (i32.load $am (global.get $ob_io)))
    (if (i32.eqz (local.get $n)) (then (return (i32.const -1))))
    (local.set $n (call $find (global.get $ob_scratch) (local.get $n) (i32.const 0)))
    (select (local.get $n) (i32.const -1) (i32.ge_s (local.get $n) (i32.const 0))))

  ;; "name: value\n" for every response header (names lower-case, repeated names kept, in
  ;; the host's order), written straight into the function's buffer as far as it fits.
  (func (export "wfn_http_v1.headers") (param $h i32) (param $buf i32) (param $len i32) (param $out i32) (result i32)
    (local $e i32) (local $resp i32) (local $names i32) (local $vals i32) (local $cursor i32) (local $next i64)
    (local $n i32) (local $p i32) (local $nend i32) (local $nlen i32) (local $vcursor i32) (local $vn i32)
    (local $q i32) (local $vend i32) (local $vlen i32) (local $total i32) (local $st i32) (local $i i32) (local $vcap i32)
    (local.set $e (call $ob_entry (local.get $h)))
    (if (i32.eqz (local.get $e)) (then (return (call $ob_fail_quietly (i32.const 6)))))
    (if (i32.eqz (i32.and (call $ob_in_guest (local.get $buf) (local.get $len)) (call $ob_in_guest (local.get $out) (i32.const 4))))
      (then (return (call $ob_bad_pointer))))
    (local.set $resp (i32.load $am (local.get $e)))
    (local.set $names (global.get $ob_scratch))
    (local.set $vals (i32.add (global.get $ob_scratch) (i32.const 4096)))
    (local.set $vcap (i32.const 8192))
    (call $ensure (i32.add (local.get $vals) (local.get $vcap)))
    (loop $page
      (local.set $st (call $ob_resp_header_names_get (local.get $resp) (call $abs (local.get $names)) (i32.const 4096)
        (local.get $cursor) (call $abs (i32.add (global.get $ob_io) (i32.const 8))) (call $abs (global.get $ob_io))))
      (if (local.get $st)
        (then
          (call $ob_msg_start)
          (call $ob_msg_bytes @lit"reading the outbound response headers failed")
          (return (call $ob_fail (i32.const 9)))))
      (local.set $n (i32.load $am (global.get $ob_io)))
      (local.set $next (i64.load $am offset=8 (global.get $ob_io)))
      (local.set $p (local.get $names))
      (local.set $nend (i32.add (local.get $names) (local.get $n)))
      (block $names_done
        (loop $name
          (br_if $names_done (i32.ge_u (local.get $p) (local.get $nend)))
          (local.set $nlen (call $find (local.get $p) (i32.sub (local.get $nend) (local.get $p)) (i32.const 0)))
          (if (i32.lt_s (local.get $nlen) (i32.const 0)) (then (local.set $nlen (i32.sub (local.get $nend) (local.get $p)))))
          (local.set $i (i32.const 0))
          (block $low_done (loop $low
            (br_if $low_done (i32.ge_u (local.get $i) (local.get $nlen)))
            (i32.store8 $am (i32.add (local.get $p) (local.get $i)) (call $lower (i32.load8_u $am (i32.add (local.get $p) (local.get $i)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $low)))
          (local.set $vcursor (i32.const 0))
          (loop $vpage
            (local.set $st (call $ob_resp_header_values_get (local.get $resp) (call $abs (local.get $p)) (local.get $nlen)
              (call $abs (local.get $vals)) (local.get $vcap) (local.get $vcursor)
              (call $abs (i32.add (global.get $ob_io) (i32.const 16))) (call $abs (global.get $ob_io))))
            (if (i32.eq (local.get $st) (i32.const 4))
              (then
                ;; one value does not fit: make room and ask again
                (local.set $vcap (i32.add (i32.load $am (global.get $ob_io)) (i32.const 1024)))
                (call $ensure (i32.add (local.get $vals) (local.get $vcap)))
                (br $vpage)))
            (if (local.get $st)
              (then
                (call $ob_msg_start)
                (call $ob_msg_bytes @lit"reading the outbound response headers failed")
                (return (call $ob_fail (i32.const 9)))))
            (local.set $vn (i32.load $am (global.get $ob_io)))
            (local.set $q (local.get $vals))
            (local.set $vend (i32.add (local.get $vals) (local.get $vn)))
            (block $v_done
              (loop $v
                (br_if $v_done (i32.ge_u (local.get $q) (local.get $vend)))
                (local.set $vlen (call $find (local.get $q) (i32.sub (local.get $vend) (local.get $q)) (i32.const 0)))
                (if (i32.lt_s (local.get $vlen) (i32.const 0)) (then (local.set $vlen (i32.sub (local.get $vend) (local.get $q)))))
                ;; "name: value\n"
                (if (i32.le_u (i32.add (local.get $total) (i32.add (i32.add (local.get $nlen) (local.get $vlen)) (i32.const 3))) (local.get $len))
                  (then
                    (local.set $i (i32.add (local.get $buf) (local.get $total)))
                    (memory.copy $gm $am (local.get $i) (local.get $p) (local.get $nlen))
                    (local.set $i (i32.add (local.get $i) (local.get $nlen)))
                    (i32.store8 $gm (local.get $i) (i32.const 58))
                    (i32.store8 $gm offset=1 (local.get $i) (i32.const 32))
                    (memory.copy $gm $am (i32.add (local.get $i) (i32.const 2)) (local.get $q) (local.get $vlen))
                    (i32.store8 $gm (i32.add (i32.add (local.get $i) (i32.const 2)) (local.get $vlen)) (i32.const 10))))
                (local.set $total (i32.add (local.get $total) (i32.add (i32.add (local.get $nlen) (local.get $vlen)) (i32.const 3))))
                (local.set $q (i32.add (i32.add (local.get $q) (local.get $vlen)) (i32.const 1)))
                (br $v)))
            (if (i64.ge_s (i64.load $am offset=16 (global.get $ob_io)) (i64.const 0))
              (then
                (local.set $vcursor (i32.wrap_i64 (i64.load $am offset=16 (global.get $ob_io))))
                (br_if $vpage (i32.ne (local.get $vn) (i32.const 0))))))
          (local.set $p (i32.add (i32.add (local.get $p) (local.get $nlen)) (i32.const 1)))
          (br $name)))
      (if (i64.ge_s (local.get $next) (i64.const 0))
        (then
          (local.set $cursor (i32.wrap_i64 (local.get $next)))
          (br_if $page (i32.ne (local.get $n) (i32.const 0))))))
    (call $ob_put (local.get $out) (local.get $total))
    (if (i32.gt_u (local.get $total) (local.get $len)) (then (return (i32.const 7))))
    (i32.const 0))

  (func (export "wfn_http_v1.body_read") (param $h i32) (param $buf i32) (param $len i32) (param $out i32) (result i32)
    (local $e i32) (local $n i32) (local $total i32) (local $left i32) (local $body i32)
    (local.set $e (call $ob_entry (local.get $h)))
    (if (i32.eqz (local.get $e)) (then (return (call $ob_fail_quietly (i32.const 6)))))
    (if (i32.eqz (i32.and (call $ob_in_guest (local.get $buf) (local.get $len)) (call $ob_in_guest (local.get $out) (i32.const 4))))
      (then (return (call $ob_bad_pointer))))
    (local.set $body (i32.load $am offset=4 (local.get $e)))
    ;; the call's deadline covers its body too: wait for data at most until then
    (local.set $left (call $ob_left_ms (i64.load $am offset=16 (local.get $e))))
    (if (local.get $left)
      (then
        (i32.store $am offset=32 (global.get $ob_io) (local.get $body))
        (if (call $ob_select (call $abs (i32.add (global.get $ob_io) (i32.const 32))) (i32.const 1) (local.get $left) (call $abs (global.get $ob_io)))
          (then (local.set $left (i32.const 1)) (i32.store $am (global.get $ob_io) (i32.const 0))))))
    (if (i32.or (i32.eqz (local.get $left)) (i32.eq (i32.load $am (global.get $ob_io)) (i32.const -1)))
      (then
        (call $ob_msg_timeout (i32.add (local.get $e) (i32.const 28)) (i32.load $am offset=24 (local.get $e))
          (i32.and (i32.load $am offset=348 (local.get $e)) (i32.const 0x7fffffff)) (i32.shr_u (i32.load $am offset=348 (local.get $e)) (i32.const 31)))
        (return (call $ob_fail (i32.const 3)))))
    (if (call $body_read (local.get $body) (local.get $buf) (local.get $len) (call $abs (global.get $ob_io)))
      (then
        (call $ob_msg_entry (local.get $e) @lit"{{OB_MSG_FAILED_PRE}}" @lit"{{OB_MSG_FAILED_MID}}")
        (call $ob_msg_bytes @lit"the connection closed before the body was complete")
        (return (call $ob_fail (i32.const 2)))))
    (local.set $n (i32.load $am (global.get $ob_io)))
    (local.set $total (i32.add (i32.load $am offset=8 (local.get $e)) (local.get $n)))
    (i32.store $am offset=8 (local.get $e) (local.get $total))
    (if (i32.gt_u (local.get $total) (i32.const {{OB_MAX_BYTES}}))
      (then
        (call $ob_msg_entry (local.get $e) @lit"{{OB_MSG_TOO_LARGE_PRE}}" @lit"{{OB_MSG_TOO_LARGE_POST}}")
        (return (call $ob_fail (i32.const 4)))))
    (call $ob_put (local.get $out) (local.get $n))
    (i32.const 0))

  (func (export "wfn_http_v1.close") (param $h i32) (result i32)
    (local $e i32)
    (local.set $e (call $ob_entry (local.get $h)))
    (if (i32.eqz (local.get $e)) (then (return (call $ob_fail_quietly (i32.const 6)))))
    (drop (call $ob_body_close (i32.load $am offset=4 (local.get $e))))
    (i32.store $am offset=12 (local.get $e) (i32.const 0))
    (i32.const 0))
