import type { MessagePort } from 'node:worker_threads';
import type { OutboundSettings } from '../../src/runtime/outbound/abi.js';
import type { KvSettings } from '../../src/runtime/kv/abi.js';

/** wfn.json: what the packager tells the handler (it sits next to index.mjs in the zip). */
export interface PackageConfig {
  /** The function's .wasm, relative to index.mjs (memory already capped). */
  wasm: string;
  /** The memory cap the .wasm carries, to tell a memory-limit trap from other traps. */
  memoryMiB: number;
  /** Names of the configured variables (and secrets) the handler passes from process.env to the function. */
  env: string[];
  /** The wfn version that packaged it. */
  wfn: string;
  /** `[outbound]` of wfn.toml; the zip holds OUTBOUND_HELPER_FILE when the function imports wfn_http_v1. */
  outbound?: OutboundSettings;
  /**
   * `[kv]` of wfn.toml and each store's DynamoDB table; the zip then holds KV_HELPER_FILE (the
   * helper thread for both key-value and outbound calls) when the function imports wfn_kv_v1.
   */
  kv?: KvSettings & { tables: Record<string, string> };
}

/** What the handler hands its outbound helper thread: the network side of the link. */
export interface OutboundHelperData {
  port: MessagePort;
  cell: SharedArrayBuffer;
}

/** What the handler hands the helper of a function with key-value stores: the store side of its links, the tables. */
export interface KvHelperData {
  kv: { port: MessagePort; cell: SharedArrayBuffer };
  outbound?: OutboundHelperData;
  tables: Record<string, string>;
}

export const CONFIG_FILE = 'wfn.json';
export const WASM_FILE = 'function.wasm';
export const HANDLER_FILE = 'index.mjs';
export const OUTBOUND_HELPER_FILE = 'outbound.mjs';
export const KV_HELPER_FILE = 'helper.mjs';
/** Lambda's handler setting: the `handler` export of index.mjs. */
export const HANDLER = 'index.handler';
export const RUNTIME = 'nodejs22.x';
