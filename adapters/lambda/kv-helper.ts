/**
 * The Lambda handler's helper thread for a function that uses key-value stores (bundled into
 * helper.mjs beside index.mjs, with the DynamoDB client): the handler's thread blocks on
 * Atomics.wait while this thread calls DynamoDB (src/runtime/node/kv-link.ts), and, when the
 * function also calls out, makes its outbound HTTP calls too: one helper thread for both.
 */
import { workerData } from 'node:worker_threads';
import { performOn } from '../../src/runtime/kv/store.js';
import { serveKv } from '../../src/runtime/node/kv-link.js';
import { serveOutbound } from '../../src/runtime/node/outbound.js';
import { DynamoKvStore, dynamoClient } from './kv-dynamodb.js';
import type { KvHelperData } from './package-config.js';

const data = workerData as KvHelperData;
if (data.outbound) serveOutbound(data.outbound.port, data.outbound.cell);
const client = dynamoClient();
const stores = new Map(Object.entries(data.tables).map(([store, table]) => [store, new DynamoKvStore(client, table)]));
// The import object admits only [kv] stores names, and each has its table.
serveKv(data.kv.port, data.kv.cell, (_scope, request) => performOn((name) => stores.get(name)!, request));
