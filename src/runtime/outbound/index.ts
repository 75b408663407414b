/** The outbound HTTP host API (wfn_http_v1), platform-neutral parts: one import for hosts. */
export * from './abi.js';
export { OutboundHost, type OutboundHostOptions } from './imports.js';
export { performFetch, type PerformFetchOptions } from './fetch.js';
export { OutboundPolicy, AllowEntryError, parseAllowEntry, originOf, checkOutboundUrl, type AllowEntry } from './policy.js';
export { decodeHeaderLines, encodeHeaderLines, HeaderLineError } from './header-lines.js';
export { outboundErrors, outboundLogLine } from './messages.js';
