/**
 * The Lambda handler's helper thread for outbound HTTP (bundled into outbound.mjs beside
 * index.mjs): the handler's thread blocks on Atomics.wait while this thread makes the call
 * (src/runtime/node/outbound.ts). Started by the handler at init, only for functions that
 * import wfn_http_v1.
 */
import { workerData } from 'node:worker_threads';
import { serveOutbound } from '../../src/runtime/node/outbound.js';
import type { OutboundHelperData } from './package-config.js';

const { port, cell } = workerData as OutboundHelperData;
serveOutbound(port, cell);
