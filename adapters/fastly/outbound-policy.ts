/**
 * The [outbound] policy as the Fastly adapter carries it: the allow list as a data segment
 * its small WAT matcher reads (outbound.wat $ob_allowed), the limits as constants, and the
 * messages' fixed parts as literals. Compiled in at package time: Fastly has no other
 * place to keep configuration the function cannot change.
 */
import { watString } from './adapter-module.js';

/** One allow entry, parsed: scheme, host (lower-case), subdomains of it only, port or any. */
export interface AllowRule {
  scheme: 'http' | 'https';
  host: string;
  subdomains: boolean;
  port: number | '*';
}

export interface OutboundPolicy {
  allow: AllowRule[];
  timeoutMs: number;
  maxResponseBytes: number;
  maxCalls: number;
}

const encoder = new TextEncoder();

/** Entries: flags (1 https, 2 subdomains, 4 any port), port (u16 LE), host length (u8), host. */
export function policyData(rules: AllowRule[]): Uint8Array {
  const out: number[] = [];
  for (const rule of rules) {
    // A "*." entry matches by suffix: keep the dot, so "example.com" itself does not match.
    const host = encoder.encode(rule.subdomains ? `.${rule.host}` : rule.host);
    if (host.length > 255) throw new Error(`[outbound] allow: the host ${rule.host} is too long`);
    const port = rule.port === '*' ? 0 : rule.port;
    out.push((rule.scheme === 'https' ? 1 : 0) | (rule.subdomains ? 2 : 0) | (rule.port === '*' ? 4 : 0), port & 0xff, port >> 8, host.length, ...host);
  }
  return Uint8Array.from(out);
}

/** The {{OB_*}} values of outbound.wat. */
export function outboundValues(policy: OutboundPolicy): Record<string, string> {
  const data = policyData(policy.allow);
  const lit = (text: string) => watString(encoder.encode(text));
  return {
    OB_POLICY: watString(data),
    OB_POLICY_BYTES: String(data.length),
    OB_POLICY_COUNT: String(policy.allow.length),
    OB_MAX_CALLS: String(policy.maxCalls),
    OB_TIMEOUT_MS: String(policy.timeoutMs),
    OB_MAX_BYTES: String(policy.maxResponseBytes),
    OB_MSG_DENIED_PRE: lit('outbound request to '),
    OB_MSG_DENIED_POST: lit(' denied: not in [outbound] allow of wfn.toml'),
    OB_MSG_FAILED_PRE: lit('outbound request to '),
    OB_MSG_FAILED_MID: lit(' failed: '),
    OB_MSG_TIMEOUT_PRE: lit('outbound request to '),
    OB_MSG_TIMEOUT_POST: lit(` timed out after ${policy.timeoutMs} ms ([outbound] timeout_ms of wfn.toml)`),
    OB_MSG_TOO_LARGE_PRE: lit('the response from '),
    OB_MSG_TOO_LARGE_POST: lit(` is larger than ${policy.maxResponseBytes} bytes ([outbound] max_response_bytes of wfn.toml)`),
    OB_MSG_BODY_TOO_LARGE: lit(`the response body is larger than ${policy.maxResponseBytes} bytes ([outbound] max_response_bytes of wfn.toml)`),
    OB_MSG_LIMIT: lit(`more than ${policy.maxCalls} outbound requests in one invocation ([outbound] max_calls of wfn.toml)`),
    OB_MSG_REDIRECTS: lit('more than 20 redirects'),
    OB_MSG_BACKEND_PRE: lit('outbound request to '),
    OB_MSG_BACKEND_POST: lit(' failed: Fastly refused to register a dynamic backend for it (status '),
    OB_MSG_BACKEND_HINT: lit('): dynamic backends must be enabled on the service'),
    OB_MSG_INVALID: lit('invalid outbound request: '),
    OB_MSG_NOT_ABSOLUTE: lit('the URL must be absolute (http:// or https://)'),
    OB_MSG_SCHEME: lit('only http: and https: URLs are supported'),
    OB_MSG_CREDENTIALS: lit('credentials in the URL are not supported'),
    OB_MSG_HOST: lit('the URL has no valid host (ASCII names, IPv4, or IPv6 in brackets)'),
    OB_MSG_PORT: lit('the URL has an invalid port'),
    OB_MSG_URL_LONG: lit('the URL is longer than 8192 bytes'),
    OB_MSG_METHOD: lit('the method must be an HTTP token of 1 to 64 characters'),
    OB_MSG_HEADERS: lit('headers must be lines "name: value" (a token name, no CR or NUL)'),
    OB_MSG_POINTER: lit('a pointer or length is outside the function\'s memory'),
    OB_MSG_BAD_HANDLE: lit('no open outbound response has the handle '),
    OB_MSG_HEADERS_FAILED: lit('reading the response headers failed'),
    OB_MSG_BODY_FAILED: lit('reading the response body failed'),
  };
}
