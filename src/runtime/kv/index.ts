/** The key-value host API (wfn_kv_v1), platform-neutral parts: one import for hosts. */
export * from './abi.js';
export { KvHost, KV_SUSPENDING, type KvHostOptions } from './imports.js';
export { performOn, KvStoreError, prefixEnd, compareUtf8, type KvStore } from './store.js';
export { kvErrors, kvLogLine, keyProblem } from './messages.js';
