/**
 * The [outbound] settings as the WAT hosts of wfn_http_v1 carry them ({{OB_*}} of the Fastly
 * adapter's outbound.wat and of the component bridge's src/pipeline/component/outbound.wat):
 * the allow list, parsed by src/runtime/outbound/policy.ts, as a data segment the WAT matcher
 * reads; the limits as constants; the messages' fixed parts, cut out of messages.ts's own
 * sentences, and the header lists of header-lines.ts and fetch.ts as literals. Compiled in
 * at package time: there the WAT is the host (an engine may allow more), and the function
 * cannot change it. outbound-checks.wat is the half of the WAT they share.
 */
import { BODY_HEADERS, CREDENTIAL_HEADERS } from '../runtime/outbound/fetch.js';
import { HOST_OWNED_HEADERS } from '../runtime/outbound/header-lines.js';
import { MAX_REDIRECTS, OUTBOUND_ERROR, type OutboundSettings } from '../runtime/outbound/abi.js';
import { outboundErrors, outboundLogLine } from '../runtime/outbound/messages.js';
import { OutboundPolicy, type AllowEntry } from '../runtime/outbound/policy.js';
import { readFileSync } from 'node:fs';
import { fillPlaceholders, watString } from '../toolchains/wat.js';
import { siblingFile } from '../util/paths.js';

const encoder = new TextEncoder();

/** Entries: flags (1 https, 2 any subdomain, 4 any port), port (u16 LE), host length (u8), host. */
export function policyData(entries: AllowEntry[]): Uint8Array {
  const out: number[] = [];
  for (const entry of entries) {
    // A "*." entry matches by suffix: keep the dot, so the apex itself does not match.
    const host = encoder.encode(entry.anySubdomain ? `.${entry.host}` : entry.host);
    if (host.length > 255) throw new Error(`[outbound] allow: the host ${entry.host} is too long`);
    const port = entry.port === '*' ? 0 : entry.port;
    out.push((entry.scheme === 'https' ? 1 : 0) | (entry.anySubdomain ? 2 : 0) | (entry.port === '*' ? 4 : 0), port & 0xff, port >> 8, host.length, ...host);
  }
  return Uint8Array.from(out);
}

/** Stands for the variable parts while a message is cut into its fixed parts. */
const SLOT = '\u0001';

/** The fixed parts of a message around its SLOTs. */
function parts(message: string, count: number): string[] {
  const cut = message.split(SLOT);
  if (cut.length !== count) throw new Error(`outbound message "${message}" does not have ${count - 1} variable parts`);
  return cut;
}

/** The {{OB_*}} values of outbound.wat. */
export function outboundValues(settings: OutboundSettings): Record<string, string> {
  const data = policyData(new OutboundPolicy(settings.allow).entries);
  const lit = (text: string) => watString(encoder.encode(text));
  const names = (set: Set<string>) => lit([...set].map((n) => `${n}\0`).join(''));
  const [deniedPre, deniedPost] = parts(outboundErrors.denied(SLOT).message, 2);
  const [redirectPre, redirectMid, redirectPost] = parts(outboundErrors.redirectDenied(SLOT, SLOT).message, 3);
  const [failedPre, failedMid] = parts(outboundErrors.failed(SLOT, SLOT).message, 3);
  // (the milliseconds are a variable part too: the function may set a shorter timeout per call)
  const [timeoutPre, timeoutMid, timeoutPost] = parts(outboundErrors.timeout(SLOT, SLOT as unknown as number).message, 3);
  const [, , timeoutOwn] = parts(outboundErrors.timeout(SLOT, SLOT as unknown as number, true).message, 3);
  const [largePre, largePost] = parts(outboundErrors.tooLarge(SLOT, settings.maxResponseBytes).message, 2);
  const [redirectsPre, redirectsPost] = parts(outboundErrors.tooManyRedirects(SLOT, MAX_REDIRECTS).message, 2);
  const [invalidPre] = parts(outboundErrors.invalid(SLOT).message, 2);
  const [logPrefix] = parts(outboundLogLine({ code: OUTBOUND_ERROR.FAILED, message: SLOT }), 2);
  return {
    OB_POLICY: watString(data),
    OB_POLICY_BYTES: String(data.length),
    OB_POLICY_COUNT: String(settings.allow.length),
    OB_MAX_CALLS: String(settings.maxCalls),
    OB_TIMEOUT_MS: String(settings.timeoutMs),
    OB_MAX_BYTES: String(settings.maxResponseBytes),
    OB_LOG_PREFIX: lit(logPrefix),
    OB_MSG_DENIED_PRE: lit(deniedPre),
    OB_MSG_DENIED_POST: lit(deniedPost),
    OB_MSG_REDIRECT_DENIED_PRE: lit(redirectPre),
    OB_MSG_REDIRECT_DENIED_MID: lit(redirectMid),
    OB_MSG_REDIRECT_DENIED_POST: lit(redirectPost),
    OB_MSG_FAILED_PRE: lit(failedPre),
    OB_MSG_FAILED_MID: lit(failedMid),
    OB_MSG_TIMEOUT_PRE: lit(timeoutPre),
    OB_MSG_TIMEOUT_MID: lit(timeoutMid),
    OB_MSG_TIMEOUT_POST: lit(timeoutPost),
    OB_MSG_TIMEOUT_OWN: lit(timeoutOwn),
    OB_MSG_TOO_LARGE_PRE: lit(largePre),
    OB_MSG_TOO_LARGE_POST: lit(largePost),
    OB_MSG_REDIRECTS_PRE: lit(redirectsPre),
    OB_MSG_REDIRECTS_POST: lit(redirectsPost),
    OB_MSG_LIMIT: lit(outboundErrors.limit(settings.maxCalls).message),
    OB_MSG_INVALID: lit(invalidPre),
    OB_MSG_POINTER: lit("a pointer or length is outside the module's memory"),
    OB_MSG_CREDENTIALS: lit('credentials in the URL are not supported (send an authorization header)'),
    OB_HOST_OWNED: names(HOST_OWNED_HEADERS),
    OB_BODY_HEADERS: names(BODY_HEADERS),
    OB_CREDENTIAL_HEADERS: names(CREDENTIAL_HEADERS),
  };
}

/**
 * outbound-checks.wat, filled with the {{OB_*}} values: the host-independent half of
 * `wfn_http_v1` that each WAT host splices in after its own code.
 */
export function outboundChecksWat(values: Record<string, string>): string {
  const file = 'outbound-checks.wat';
  return fillPlaceholders(readFileSync(siblingFile(import.meta.url, file, 'asset'), 'utf8'), values, file);
}
