import type { MessagePort } from 'node:worker_threads';
import type { OutboundSettings } from '../../src/runtime/outbound/abi.js';

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
}

/** What the handler hands its outbound helper thread: the network side of the link. */
export interface OutboundHelperData {
  port: MessagePort;
  cell: SharedArrayBuffer;
}

export const CONFIG_FILE = 'wfn.json';
export const WASM_FILE = 'function.wasm';
export const HANDLER_FILE = 'index.mjs';
export const OUTBOUND_HELPER_FILE = 'outbound.mjs';
/** Lambda's handler setting: the `handler` export of index.mjs. */
export const HANDLER = 'index.handler';
export const RUNTIME = 'nodejs22.x';
