;; wfn's outbound HTTP host API (`wfn_http_v1`, docs/contract.md) on wasi:http/outgoing-handler.
;;
;; A fragment of bridge.wat, spliced in by bridge-module.ts only for a function that imports
;; wfn_http_v1 (the link renames its imports to wasi_snapshot_preview1."wfn_http_v1.<name>",
;; which this code exports). The part above the @@code line goes among the bridge's imports;
;; the host-independent half, src/pipeline/outbound-checks.wat (shared with the Fastly
;; adapter's outbound.wat), follows this code.
;;
;; It behaves as src/runtime/outbound (imports.ts, fetch.ts) does on the Node hosts and as the
;; Fastly adapter does, with the same checks and messages (src/pipeline/outbound-values.ts):
;; a call is counted, checked (method, URL,
;; header lines, flags), its URL normalized in $am and matched against the [outbound] allow
;; list compiled in at package time (the engine may allow more: spin.toml's
;; allowed_outbound_hosts is the same list, wasmtime serve allows everything). Each hop is a
;; new outgoing-request (headers through fields, the body through the outgoing-body stream)
;; given to outgoing-handler.handle; the future-incoming-response is awaited with wasi:io/poll
;; against a monotonic-clock pollable at the call's deadline. Redirects are followed here, each
;; hop checked again. The body streams from the engine into the function's buffers, each read
;; bounded by the same deadline. Errors are codes, never traps, with a message for
;; error_message and one line on stderr.
;;
;; Memory: what the engine allocates through cabi_realloc (header lists, body chunks, error
;; strings) lands at the top of the arena; each call copies what it needs out and puts the
;; arena back where it was, so a long body does not grow the bridge's memory.

  (import "wasi:http/outgoing-handler@{{V}}" "handle" (func $ob_handle (param i32 i32 i32 i32)))
  (import "wasi:http/types@{{V}}" "[constructor]outgoing-request" (func $ob_req_new (param i32) (result i32)))
  (import "wasi:http/types@{{V}}" "[method]outgoing-request.set-method" (func $ob_req_set_method (param i32 i32 i32 i32) (result i32)))
  (import "wasi:http/types@{{V}}" "[method]outgoing-request.set-scheme" (func $ob_req_set_scheme (param i32 i32 i32 i32 i32) (result i32)))
  (import "wasi:http/types@{{V}}" "[method]outgoing-request.set-authority" (func $ob_req_set_authority (param i32 i32 i32 i32) (result i32)))
  (import "wasi:http/types@{{V}}" "[method]outgoing-request.set-path-with-query" (func $ob_req_set_pwq (param i32 i32 i32 i32) (result i32)))
  (import "wasi:http/types@{{V}}" "[method]outgoing-request.body" (func $ob_req_body (param i32 i32)))
  (import "wasi:http/types@{{V}}" "[method]future-incoming-response.subscribe" (func $ob_future_subscribe (param i32) (result i32)))
  (import "wasi:http/types@{{V}}" "[method]future-incoming-response.get" (func $ob_future_get (param i32 i32)))
  (import "wasi:http/types@{{V}}" "[resource-drop]future-incoming-response" (func $ob_drop_future (param i32)))
  (import "wasi:http/types@{{V}}" "[method]incoming-response.status" (func $ob_resp_status (param i32) (result i32)))
  (import "wasi:http/types@{{V}}" "[method]incoming-response.headers" (func $ob_resp_headers (param i32) (result i32)))
  (import "wasi:http/types@{{V}}" "[method]incoming-response.consume" (func $ob_resp_consume (param i32 i32)))
  (import "wasi:http/types@{{V}}" "[resource-drop]incoming-response" (func $ob_drop_resp (param i32)))
  (import "wasi:http/types@{{V}}" "[resource-drop]incoming-body" (func $ob_drop_inbody (param i32)))
  (import "wasi:http/types@{{V}}" "[resource-drop]fields" (func $ob_drop_fields (param i32)))
  (import "wasi:http/types@{{V}}" "[method]fields.get" (func $ob_fields_get (param i32 i32 i32 i32)))
  (import "wasi:io/streams@{{V}}" "[method]input-stream.read" (func $ob_in_read (param i32 i64 i32)))
  (import "wasi:io/streams@{{V}}" "[method]input-stream.subscribe" (func $ob_in_subscribe (param i32) (result i32)))
  (import "wasi:io/error@{{V}}" "[resource-drop]error" (func $ob_drop_error (param i32)))
  (import "wasi:io/poll@{{V}}" "poll" (func $ob_poll (param i32 i32 i32)))
  (import "wasi:io/poll@{{V}}" "[method]pollable.ready" (func $ob_ready (param i32) (result i32)))
  (import "wasi:clocks/monotonic-clock@{{V}}" "subscribe-instant" (func $ob_timer (param i64) (result i32)))

;; @@code

  ;; Error codes (outbound-abi): 0 ok, 1 denied, 2 unreachable, 3 timeout, 4 too large,
  ;; 5 invalid, 6 bad handle, 7 buffer too small, 8 limit, 9 failed.

  ;; Regions of $am reserved by $ob_init (after the environment, before the CGI header block).
  (global $ob_io (mut i32) (i32.const 0))       ;; 64 bytes: the poll list, numbers
  (global $ob_msg (mut i32) (i32.const 0))      ;; 1024 bytes: the last error's message
  (global $ob_msg_len (mut i32) (i32.const 0))
  (global $ob_method (mut i32) (i32.const 0))   ;; 64 bytes
  (global $ob_method_len (mut i32) (i32.const 0))
  (global $ob_first (mut i32) (i32.const 0))    ;; 320 bytes: the first hop's origin
  (global $ob_first_len (mut i32) (i32.const 0))
  (global $ob_raw (mut i32) (i32.const 0))      ;; 8192 bytes: the URL as given (or resolved)
  (global $ob_raw_len (mut i32) (i32.const 0))
  (global $ob_url (mut i32) (i32.const 0))      ;; 3 * 8192 + 64 bytes: the normalized URL
  (global $ob_url_len (mut i32) (i32.const 0))
  (global $ob_policy (mut i32) (i32.const 0))   ;; the allow list
  ;; {{OB_MAX_CALLS}} entries of 360 bytes (outbound-checks.wat): incoming-response at 0,
  ;; input-stream at 4, the response's fields at 352, incoming-body at 356
  (global $ob_handles (mut i32) (i32.const 0))
  (global $ob_nhandles (mut i32) (i32.const 0))
  ;; 12 KiB: a response header's value (8 KiB), the previous hop's host, the log line
  (global $ob_scratch (mut i32) (i32.const 0))
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
  ;; The current hop's response: incoming-response, its fields, its status.
  (global $ob_resp (mut i32) (i32.const 0))
  (global $ob_rheaders (mut i32) (i32.const 0))
  (global $ob_status (mut i32) (i32.const 0))

  (data $ob_policy_data "{{OB_POLICY}}")

  (func $ob_init
    (local $a i32)
    ;; (8-aligned: the poll list there is a canonical-ABI list of i32)
    (local.set $a (i32.and (i32.add (global.get $arena) (i32.const 7)) (i32.const -8)))
    (global.set $ob_io (local.get $a))
    (global.set $ob_msg (i32.add (local.get $a) (i32.const 64)))
    (global.set $ob_method (i32.add (local.get $a) (i32.const 1088)))
    (global.set $ob_first (i32.add (local.get $a) (i32.const 1152)))
    (global.set $ob_raw (i32.add (local.get $a) (i32.const 1472)))
    (global.set $ob_url (i32.add (local.get $a) (i32.const 9664)))
    (global.set $ob_policy (i32.add (local.get $a) (i32.const 34304)))
    ;; (8-aligned: an entry holds an i64)
    (global.set $ob_handles (i32.and (i32.add (i32.add (global.get $ob_policy) (i32.const {{OB_POLICY_BYTES}})) (i32.const 7)) (i32.const -8)))
    (global.set $ob_scratch (i32.add (global.get $ob_handles) (i32.mul (i32.const {{OB_MAX_CALLS}}) (i32.const 360))))
    (global.set $arena (i32.add (global.get $ob_scratch) (i32.const 12288)))
    (call $ensure (global.get $arena))
    (memory.init $am $ob_policy_data (global.get $ob_policy) (i32.const 0) (i32.const {{OB_POLICY_BYTES}})))

  ;; Monotonic clock, ns.
  (func $ob_now (result i64) (call $mono_now))

  ;; ------------------------------------------------------------ small helpers

  ;; Logs the message (one line on stderr, as outboundLogLine) and returns $code.
  ;; Logs the message (one line on stderr, as outboundLogLine) and returns $code.
  (func $ob_fail (param $code i32) (result i32)
    (local $line i32) (local $n i32)
    (local.set $line (i32.add (global.get $ob_scratch) (i32.const 10240)))
    (memory.copy $am $am (local.get $line) @lit"{{OB_LOG_PREFIX}}")
    (local.set $n @len"{{OB_LOG_PREFIX}}")
    (memory.copy $am $am (i32.add (local.get $line) (local.get $n)) (global.get $ob_msg) (global.get $ob_msg_len))
    (local.set $n (i32.add (local.get $n) (global.get $ob_msg_len)))
    (i32.store8 $am (i32.add (local.get $line) (local.get $n)) (i32.const 10))
    (call $stderr_write (call $abs (local.get $line)) (i32.add (local.get $n) (i32.const 1)))
    (local.get $code))

  ;; Waits until $p is ready or the monotonic clock passes $deadline: 1 when ready. Drops $p.
  (func $ob_wait (param $p i32) (param $deadline i64) (result i32)
    (local $timer i32) (local $mark i32) (local $ready i32)
    (if (i64.gt_s (i64.sub (local.get $deadline) (call $ob_now)) (i64.const 0))
      (then
        (local.set $timer (call $ob_timer (local.get $deadline)))
        (i32.store $am offset=32 (global.get $ob_io) (local.get $p))
        (i32.store $am offset=36 (global.get $ob_io) (local.get $timer))
        (local.set $mark (global.get $arena))
        (call $ob_poll (call $abs (i32.add (global.get $ob_io) (i32.const 32))) (i32.const 2) (call $abs (global.get $RET)))
        (global.set $arena (local.get $mark))
        (call $drop_pollable (local.get $timer))))
    (local.set $ready (call $ob_ready (local.get $p)))
    (call $drop_pollable (local.get $p))
    (local.get $ready))

  ;; Appends the function's header lines (checked by $ob_check_headers) to $fields, without
  ;; the ones the host owns and, after a redirect, the ones fetch.ts drops. Returns 1, or 0
  ;; with the message written (the engine refused a header).
  (func $ob_append_headers (param $fields i32) (param $p i32) (param $len i32) (result i32)
    (local $end i32) (local $ls i32) (local $le i32) (local $colon i32) (local $vs i32) (local $ve i32) (local $nl i32) (local $i i32)
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
          (call $fields_append (local.get $fields) (local.get $ls) (local.get $nl)
            (local.get $vs) (i32.sub (local.get $ve) (local.get $vs)) (call $abs (global.get $RET)))
          (if (i32.load8_u $am (global.get $RET))
            (then
              (call $ob_msg_invalid)
              (call $ob_msg_bytes @lit"the engine refused the header \22")
              (local.set $i (local.get $ls))
              (block $nd (loop $nn
                (br_if $nd (i32.ge_u (local.get $i) (local.get $colon)))
                (call $ob_msg_byte (call $lower (i32.load8_u $gm (local.get $i))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $nn)))
              (call $ob_msg_byte (i32.const 34))
              (return (i32.const 0)))))
        (local.set $ls (i32.add (local.get $le) (i32.const 1)))
        (br $line)))
    (i32.const 1))

  ;; What a failed send tells in $send_error_detail, as a code and the message.
  ;; The message and code of a wasi:http error-code at $at ($am), as fetch.ts words them.
  (func $ob_send_failure (param $at i32) (result i32)
    (local $tag i32) (local $n i32)
    (local.set $tag (i32.load8_u $am (local.get $at)))
    (if (i32.or (i32.or (i32.eq (local.get $tag) (i32.const 8)) (i32.eq (local.get $tag) (i32.const 9)))
                (i32.or (i32.eq (local.get $tag) (i32.const 10)) (i32.eq (local.get $tag) (i32.const 33))))
      (then
        (call $ob_msg_timeout (global.get $ob_first) (global.get $ob_first_len) (global.get $ob_call_ms) (global.get $ob_own_timeout))
        (return (i32.const 3))))
    (call $ob_msg_first @lit"{{OB_MSG_FAILED_PRE}}" @lit"{{OB_MSG_FAILED_MID}}")
    ;; HTTP-request-denied: the engine's own allow list (spin.toml's allowed_outbound_hosts)
    (if (i32.eq (local.get $tag) (i32.const 15))
      (then
        (call $ob_msg_bytes @lit"the engine denied it (wasi:http HTTP-request-denied: allow the origin in the engine too)")
        (return (i32.const 1))))
    (block $unreachable
      (if (i32.eqz (local.get $tag))
        (then (call $ob_msg_bytes @lit"host name lookup failed") (br $unreachable)))
      (if (i32.or (i32.eq (local.get $tag) (i32.const 1)) (i32.eq (local.get $tag) (i32.const 2)))
        (then (call $ob_msg_bytes @lit"host not found") (br $unreachable)))
      (if (i32.and (i32.ge_u (local.get $tag) (i32.const 3)) (i32.le_u (local.get $tag) (i32.const 5)))
        (then (call $ob_msg_bytes @lit"host unreachable") (br $unreachable)))
      (if (i32.eq (local.get $tag) (i32.const 6))
        (then (call $ob_msg_bytes @lit"connection refused") (br $unreachable)))
      (if (i32.eq (local.get $tag) (i32.const 7))
        (then (call $ob_msg_bytes @lit"connection closed by the server") (br $unreachable)))
      (if (i32.and (i32.ge_u (local.get $tag) (i32.const 12)) (i32.le_u (local.get $tag) (i32.const 14)))
        (then (call $ob_msg_bytes @lit"TLS error") (br $unreachable)))
      (if (i32.or (i32.eq (local.get $tag) (i32.const 25)) (i32.eq (local.get $tag) (i32.const 35)))
        (then (call $ob_msg_bytes @lit"invalid HTTP response") (return (i32.const 9))))
      ;; internal-error(option<string>): the engine's words, when it gave some
      (if (i32.and (i32.eq (local.get $tag) (i32.const 38)) (i32.load8_u $am offset=8 (local.get $at)))
        (then
          (call $ob_msg_bytes @lit"the engine failed: ")
          (local.set $n (i32.load $am offset=16 (local.get $at)))
          (call $ob_msg_bytes (call $rel (i32.load $am offset=12 (local.get $at)))
            (select (local.get $n) (i32.const 200) (i32.le_u (local.get $n) (i32.const 200))))
          (return (i32.const 9))))
      (call $ob_msg_bytes @lit"wasi:http error-code ")
      (call $ob_msg_u32 (local.get $tag))
      (return (i32.const 9)))
    (i32.const 2))

  ;; The end of a hop whose response is not handed on (a redirect, a body too large).
  (func $ob_drop_hop
    (call $ob_drop_fields (global.get $ob_rheaders))
    (call $ob_drop_resp (global.get $ob_resp)))

  ;; The handles of the response handed on, into its table entry $e: the response, its fields,
  ;; its incoming-body and that body's stream. Returns 0, or 9 with the message written.
  (func $ob_keep (param $e i32) (result i32)
    (local $body i32)
    (call $ob_resp_consume (global.get $ob_resp) (call $abs (global.get $RET)))
    (if (i32.load8_u $am (global.get $RET))
      (then
        (call $ob_drop_hop)
        (call $ob_msg_first @lit"{{OB_MSG_FAILED_PRE}}" @lit"{{OB_MSG_FAILED_MID}}")
        (call $ob_msg_bytes @lit"the engine gave no response body")
        (return (i32.const 9))))
    (local.set $body (i32.load $am offset=4 (global.get $RET)))
    (call $inbody_stream (local.get $body) (call $abs (global.get $RET)))
    (if (i32.load8_u $am (global.get $RET))
      (then
        (call $ob_drop_inbody (local.get $body))
        (call $ob_drop_hop)
        (call $ob_msg_first @lit"{{OB_MSG_FAILED_PRE}}" @lit"{{OB_MSG_FAILED_MID}}")
        (call $ob_msg_bytes @lit"the engine gave no response body")
        (return (i32.const 9))))
    (i32.store $am offset=0 (local.get $e) (global.get $ob_resp))
    (i32.store $am offset=4 (local.get $e) (i32.load $am offset=4 (global.get $RET)))
    (i32.store $am offset=352 (local.get $e) (global.get $ob_rheaders))
    (i32.store $am offset=356 (local.get $e) (local.get $body))
    (i32.const 0))

  ;; The method as wasi:http's variant: get head post put delete connect options trace patch,
  ;; other(string). fetch normalizes the case of DELETE GET HEAD OPTIONS POST PUT only.
  (func $ob_method_tag (result i32)
    (local $m i32) (local $n i32)
    (local.set $m (global.get $ob_method))
    (local.set $n (global.get $ob_method_len))
    (if (call $ieq (local.get $m) (local.get $n) @lit"get") (then (return (i32.const 0))))
    (if (call $ieq (local.get $m) (local.get $n) @lit"head") (then (return (i32.const 1))))
    (if (call $ieq (local.get $m) (local.get $n) @lit"post") (then (return (i32.const 2))))
    (if (call $ieq (local.get $m) (local.get $n) @lit"put") (then (return (i32.const 3))))
    (if (call $ieq (local.get $m) (local.get $n) @lit"delete") (then (return (i32.const 4))))
    (if (call $ieq (local.get $m) (local.get $n) @lit"options") (then (return (i32.const 6))))
    (i32.const 9))

  ;; One request to the URL in $ob_raw. On success $ob_resp, $ob_rheaders and $ob_status are set.
  (func $ob_hop (param $hp i32) (param $hl i32) (result i32)
    (local $fields i32) (local $req i32) (local $body i32) (local $future i32) (local $stream i32) (local $tag i32) (local $n i32)
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

    (local.set $fields (call $fields_new))
    (if (i32.eqz (call $ob_append_headers (local.get $fields) (local.get $hp) (local.get $hl))) (then (return (i32.const 5))))
    ;; content-length is the host's (fetch sends it for a body, and 0 for an empty POST or PUT)
    (local.set $tag (call $ob_method_tag))
    (if (i32.or (global.get $ob_body_len) (i32.or (i32.eq (local.get $tag) (i32.const 2)) (i32.eq (local.get $tag) (i32.const 3))))
      (then
        (local.set $n (call $ob_dec (i32.add (global.get $ob_io) (i32.const 40)) (global.get $ob_body_len)))
        (call $fields_append (local.get $fields) (call $abs @off"content-length") (i32.const 14)
          (call $abs (i32.add (global.get $ob_io) (i32.const 40))) (local.get $n) (call $abs (global.get $RET)))))
    (local.set $req (call $ob_req_new (local.get $fields)))
    (block $refused
      (br_if $refused (call $ob_req_set_method (local.get $req) (local.get $tag)
        (select (call $abs (global.get $ob_method)) (i32.const 0) (i32.eq (local.get $tag) (i32.const 9)))
        (select (global.get $ob_method_len) (i32.const 0) (i32.eq (local.get $tag) (i32.const 9)))))
      (br_if $refused (call $ob_req_set_scheme (local.get $req) (i32.const 1) (global.get $u_https) (i32.const 0) (i32.const 0)))
      (br_if $refused (call $ob_req_set_authority (local.get $req) (i32.const 1) (call $abs (global.get $u_host)) (global.get $u_auth_len)))
      (br_if $refused (call $ob_req_set_pwq (local.get $req) (i32.const 1) (call $abs (global.get $u_path))
        (i32.sub (i32.add (global.get $ob_url) (global.get $ob_url_len)) (global.get $u_path))))
      (call $ob_req_body (local.get $req) (call $abs (global.get $RET)))
      (br_if $refused (i32.load8_u $am (global.get $RET)))
      (local.set $body (i32.load $am offset=4 (global.get $RET)))
      ;; the request goes out first, its body streams after (a large body cannot fill a buffer
      ;; no one reads yet)
      (call $ob_handle (local.get $req) (i32.const 0) (i32.const 0) (call $abs (global.get $RET)))
      (if (i32.load8_u $am (global.get $RET))
        (then
          (call $drop_outbody (local.get $body))
          (return (call $ob_send_failure (i32.add (global.get $RET) (i32.const 8))))))
      (local.set $future (i32.load $am offset=8 (global.get $RET)))
      (if (global.get $ob_body_len)
        (then
          (call $outbody_write (local.get $body) (call $abs (global.get $RET)))
          (if (i32.eqz (i32.load8_u $am (global.get $RET)))
            (then
              (local.set $stream (i32.load $am offset=4 (global.get $RET)))
              ;; a failed write shows in the response's future
              (drop (call $stream_write (local.get $stream) (global.get $ob_body_ptr) (global.get $ob_body_len)))
              (call $drop_out (local.get $stream))))))
      (call $outbody_finish (local.get $body) (i32.const 0) (i32.const 0) (call $abs (global.get $RET)))
      ;; the response head, until the call's deadline
      (if (i32.eqz (call $ob_wait (call $ob_future_subscribe (local.get $future)) (global.get $ob_deadline)))
        (then
          (call $ob_drop_future (local.get $future))
          (call $ob_msg_timeout (global.get $ob_first) (global.get $ob_first_len) (global.get $ob_call_ms) (global.get $ob_own_timeout))
          (return (i32.const 3))))
      ;; option<result<result<incoming-response, error-code>>>: 1 at 0, 0 at 8, then 0 at 16
      ;; and the response at 24, or 1 at 16 and the error-code at 24
      (call $ob_future_get (local.get $future) (call $abs (global.get $RET)))
      (br_if $refused (i32.or (i32.eqz (i32.load8_u $am (global.get $RET))) (i32.load8_u $am offset=8 (global.get $RET))))
      (if (i32.load8_u $am offset=16 (global.get $RET))
        (then (return (call $ob_send_failure (i32.add (global.get $RET) (i32.const 24))))))
      (global.set $ob_resp (i32.load $am offset=24 (global.get $RET)))
      (global.set $ob_status (call $ob_resp_status (global.get $ob_resp)))
      (global.set $ob_rheaders (call $ob_resp_headers (global.get $ob_resp)))
      (return (i32.const 0)))
    (call $ob_msg_first @lit"{{OB_MSG_FAILED_PRE}}" @lit"{{OB_MSG_FAILED_MID}}")
    (call $ob_msg_bytes @lit"the engine refused the request")
    (i32.const 9))

  ;; The first value of response header [$name, +$len) ($am) at the scratch area; its length, or -1.
  (func $ob_resp_header (param $name i32) (param $len i32) (result i32)
    (local $mark i32) (local $n i32) (local $list i32)
    (local.set $mark (global.get $arena))
    (call $ob_fields_get (global.get $ob_rheaders) (call $abs (local.get $name)) (local.get $len) (call $abs (global.get $RET)))
    (local.set $n (i32.const -1))
    ;; list<list<u8>>: the first value (ptr, len) at the list's start
    (if (i32.load $am offset=4 (global.get $RET))
      (then
        (local.set $list (call $rel (i32.load $am (global.get $RET))))
        (local.set $n (i32.load $am offset=4 (local.get $list)))
        (if (i32.le_u (local.get $n) (i32.const 8192))
          (then (memory.copy $am $am (global.get $ob_scratch) (call $rel (i32.load $am (local.get $list))) (local.get $n)))
          (else (local.set $n (i32.const -1))))))
    (global.set $arena (local.get $mark))
    (local.get $n))

  ;; "name: value\n" for every response header (names lower-case, repeated names kept, in
  ;; the engine's order), written straight into the function's buffer as far as it fits.
  (func (export "wfn_http_v1.headers") (param $h i32) (param $buf i32) (param $len i32) (param $out i32) (result i32)
    (local $e i32) (local $mark i32) (local $list i32) (local $count i32) (local $k i32) (local $item i32)
    (local $name i32) (local $nlen i32) (local $val i32) (local $vlen i32) (local $total i32) (local $i i32) (local $at i32)
    (local.set $e (call $ob_entry (local.get $h)))
    (if (i32.eqz (local.get $e)) (then (return (call $ob_fail_quietly (i32.const 6)))))
    (if (i32.eqz (i32.and (call $ob_in_guest (local.get $buf) (local.get $len)) (call $ob_in_guest (local.get $out) (i32.const 4))))
      (then (return (call $ob_bad_pointer))))
    (local.set $mark (global.get $arena))
    ;; list<tuple<string, list<u8>>>: 16 bytes an entry (name ptr, len, value ptr, len)
    (call $fields_entries (i32.load $am offset=352 (local.get $e)) (call $abs (global.get $RET)))
    (local.set $list (call $rel (i32.load $am (global.get $RET))))
    (local.set $count (i32.load $am offset=4 (global.get $RET)))
    (block $done
      (loop $each
        (br_if $done (i32.ge_u (local.get $k) (local.get $count)))
        (local.set $item (i32.add (local.get $list) (i32.shl (local.get $k) (i32.const 4))))
        (local.set $name (call $rel (i32.load $am (local.get $item))))
        (local.set $nlen (i32.load $am offset=4 (local.get $item)))
        (local.set $val (call $rel (i32.load $am offset=8 (local.get $item))))
        (local.set $vlen (i32.load $am offset=12 (local.get $item)))
        (if (i32.le_u (i32.add (local.get $total) (i32.add (i32.add (local.get $nlen) (local.get $vlen)) (i32.const 3))) (local.get $len))
          (then
            (local.set $at (i32.add (local.get $buf) (local.get $total)))
            (local.set $i (i32.const 0))
            (block $low_done (loop $low
              (br_if $low_done (i32.ge_u (local.get $i) (local.get $nlen)))
              (i32.store8 $gm (i32.add (local.get $at) (local.get $i)) (call $lower (i32.load8_u $am (i32.add (local.get $name) (local.get $i)))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br $low)))
            (local.set $at (i32.add (local.get $at) (local.get $nlen)))
            (i32.store8 $gm (local.get $at) (i32.const 58))
            (i32.store8 $gm offset=1 (local.get $at) (i32.const 32))
            (memory.copy $gm $am (i32.add (local.get $at) (i32.const 2)) (local.get $val) (local.get $vlen))
            (i32.store8 $gm (i32.add (i32.add (local.get $at) (i32.const 2)) (local.get $vlen)) (i32.const 10))))
        (local.set $total (i32.add (local.get $total) (i32.add (i32.add (local.get $nlen) (local.get $vlen)) (i32.const 3))))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $each)))
    (global.set $arena (local.get $mark))
    (call $ob_put (local.get $out) (local.get $total))
    (if (i32.gt_u (local.get $total) (local.get $len)) (then (return (i32.const 7))))
    (i32.const 0))

  (func (export "wfn_http_v1.body_read") (param $h i32) (param $buf i32) (param $len i32) (param $out i32) (result i32)
    (local $e i32) (local $n i32) (local $total i32) (local $stream i32) (local $mark i32)
    (local.set $e (call $ob_entry (local.get $h)))
    (if (i32.eqz (local.get $e)) (then (return (call $ob_fail_quietly (i32.const 6)))))
    (if (i32.eqz (i32.and (call $ob_in_guest (local.get $buf) (local.get $len)) (call $ob_in_guest (local.get $out) (i32.const 4))))
      (then (return (call $ob_bad_pointer))))
    (if (i32.eqz (local.get $len)) (then (call $ob_put (local.get $out) (i32.const 0)) (return (i32.const 0))))
    (local.set $stream (i32.load $am offset=4 (local.get $e)))
    (block $got
      (loop $more
        ;; the call's deadline covers its body too: wait for data at most until then
        (if (i32.eqz (call $ob_wait (call $ob_in_subscribe (local.get $stream)) (i64.load $am offset=16 (local.get $e))))
          (then
            (call $ob_msg_timeout (i32.add (local.get $e) (i32.const 28)) (i32.load $am offset=24 (local.get $e))
              (i32.and (i32.load $am offset=348 (local.get $e)) (i32.const 0x7fffffff)) (i32.shr_u (i32.load $am offset=348 (local.get $e)) (i32.const 31)))
            (return (call $ob_fail (i32.const 3)))))
        (local.set $mark (global.get $arena))
        (call $ob_in_read (local.get $stream)
          (i64.extend_i32_u (select (local.get $len) (i32.const 65536) (i32.le_u (local.get $len) (i32.const 65536))))
          (call $abs (global.get $RET)))
        ;; result<list<u8>, stream-error>; stream-error: 0 last-operation-failed(error), 1 closed
        (if (i32.load8_u $am (global.get $RET))
          (then
            (global.set $arena (local.get $mark))
            (if (i32.load8_u $am offset=4 (global.get $RET)) (then (br $got)))
            (call $ob_drop_error (i32.load $am offset=8 (global.get $RET)))
            (call $ob_msg_entry (local.get $e) @lit"{{OB_MSG_FAILED_PRE}}" @lit"{{OB_MSG_FAILED_MID}}")
            (call $ob_msg_bytes @lit"the connection closed before the body was complete")
            (return (call $ob_fail (i32.const 2)))))
        (local.set $n (i32.load $am offset=8 (global.get $RET)))
        (memory.copy $gm $am (local.get $buf) (call $rel (i32.load $am offset=4 (global.get $RET))) (local.get $n))
        (global.set $arena (local.get $mark))
        ;; an empty read is not the end: wait again
        (br_if $more (i32.eqz (local.get $n)))))
    (local.set $total (i32.add (i32.load $am offset=8 (local.get $e)) (local.get $n)))
    (i32.store $am offset=8 (local.get $e) (local.get $total))
    (if (i32.gt_u (local.get $total) (i32.const {{OB_MAX_BYTES}}))
      (then
        (call $ob_msg_entry (local.get $e) @lit"{{OB_MSG_TOO_LARGE_PRE}}" @lit"{{OB_MSG_TOO_LARGE_POST}}")
        (return (call $ob_fail (i32.const 4)))))
    (call $ob_put (local.get $out) (local.get $n))
    (i32.const 0))

  ;; Children first: the stream, the body, the fields, then the response.
  (func (export "wfn_http_v1.close") (param $h i32) (result i32)
    (local $e i32)
    (local.set $e (call $ob_entry (local.get $h)))
    (if (i32.eqz (local.get $e)) (then (return (call $ob_fail_quietly (i32.const 6)))))
    (call $drop_in (i32.load $am offset=4 (local.get $e)))
    (call $ob_drop_inbody (i32.load $am offset=356 (local.get $e)))
    (call $ob_drop_fields (i32.load $am offset=352 (local.get $e)))
    (call $ob_drop_resp (i32.load $am (local.get $e)))
    (i32.store $am offset=12 (local.get $e) (i32.const 0))
    (i32.const 0))

