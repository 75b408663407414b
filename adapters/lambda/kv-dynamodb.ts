/**
 * The key-value stores of a Lambda function: one DynamoDB table per store, `wfn-<function>-<store>`,
 * created on deploy (deploy.ts) and used by the handler's helper thread (kv-helper.ts).
 *
 * Items: partition key `p` (always "kv": one partition, so a Query lists keys in order) and sort
 * key `k` (the key; DynamoDB orders string sort keys by their UTF-8 bytes, the order the API lists
 * in). A value up to INLINE_BYTES is the item's `v`. A larger one (DynamoDB items stop at 400 KB,
 * the API's values at 25 MiB) is written first as chunk items (`k` = key NUL version NUL index,
 * `c` = 1), then the key's item is switched to name that version (`ver`, `n` chunks) in one
 * PutItem, so a reader sees the old or the new value, never a mix; the replaced chunks are deleted
 * after. Reads are strongly consistent. Expiry: `x` (ms) is checked on every read and list;
 * `e` (seconds) is the table's TTL attribute, so DynamoDB removes expired items in time.
 */
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { KV_ERROR, type KvPage } from '../../src/runtime/kv/abi.js';
import { KvStoreError, type KvStore } from '../../src/runtime/kv/store.js';

/** Values up to this size live in the key's own item (DynamoDB's item limit is 400 KB, names included). */
export const INLINE_BYTES = 350 * 1024;
/** BatchWriteItem takes at most 25 requests. */
const BATCH = 25;
const PARTITION = { S: 'kv' } as const;
const CHUNK_SEPARATOR = '\u0000';

/** The table of one store of one function. Function names are [a-z0-9-], store names [A-Za-z0-9_]: valid table names. */
export function tableName(functionName: string, store: string): string {
  return `wfn-${functionName}-${store}`;
}

/** What the function's execution role may do, on its tables only. */
export function tablePolicy(tableArns: string[]): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'],
        Resource: tableArns,
      },
    ],
  };
}

function unavailable(table: string, error: unknown): KvStoreError {
  if (error instanceof KvStoreError) return error;
  const e = error as Error & { $metadata?: { httpStatusCode?: number } };
  if (e.name === 'ResourceNotFoundException') return new KvStoreError(KV_ERROR.UNAVAILABLE, `the DynamoDB table ${table} does not exist (wfn deploy creates it)`);
  const status = e.$metadata?.httpStatusCode;
  return new KvStoreError(KV_ERROR.UNAVAILABLE, `DynamoDB answered ${e.name ?? 'an error'}${status ? ` (HTTP ${status})` : ''} on ${table}: ${e.message}`);
}

function live(item: Record<string, AttributeValue> | undefined, now: number): boolean {
  return !!item && (item.x === undefined || Number(item.x.N) > now);
}

const chunkPrefix = (key: string, version: string) => `${key}${CHUNK_SEPARATOR}${version}${CHUNK_SEPARATOR}`;
const chunkKey = (key: string, version: string, index: number) => `${chunkPrefix(key, version)}${String(index).padStart(5, '0')}`;

export class DynamoKvStore implements KvStore {
  constructor(
    private readonly client: DynamoDBClient,
    readonly table: string,
  ) {}

  private async send<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw unavailable(this.table, error);
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    // A value replaced between reading its item and its chunks is read again (bounded).
    for (let attempt = 0; attempt < 3; attempt++) {
      const got = await this.send(() => this.client.send(new GetItemCommand({ TableName: this.table, Key: { p: PARTITION, k: { S: key } }, ConsistentRead: true })));
      const item = got.Item;
      if (!live(item, Date.now())) return undefined;
      if (item!.v?.B) return item!.v.B;
      const version = item!.ver?.S;
      const count = Number(item!.n?.N ?? 0);
      if (!version) return new Uint8Array(0);
      const chunks = await this.chunks(key, version);
      if (chunks.length === count) {
        const total = chunks.reduce((n, c) => n + c.length, 0);
        const out = new Uint8Array(total);
        let at = 0;
        for (const chunk of chunks) {
          out.set(chunk, at);
          at += chunk.length;
        }
        return out;
      }
    }
    throw new KvStoreError(KV_ERROR.FAILED, `the value kept changing while it was read from ${this.table}`);
  }

  private async chunks(key: string, version: string): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.send(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'p = :p AND begins_with(k, :c)',
            ExpressionAttributeValues: { ':p': PARTITION, ':c': { S: chunkPrefix(key, version) } },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        ),
      );
      for (const item of page.Items ?? []) out.push(item.v?.B ?? new Uint8Array(0));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async set(key: string, value: Uint8Array, ttlSeconds: number): Promise<void> {
    const now = Date.now();
    const expiry: Record<string, AttributeValue> = ttlSeconds > 0 ? { x: { N: String(now + ttlSeconds * 1000) }, e: { N: String(Math.ceil(now / 1000) + ttlSeconds) } } : {};
    let item: Record<string, AttributeValue>;
    if (value.length <= INLINE_BYTES) {
      item = { p: PARTITION, k: { S: key }, v: { B: value }, ...expiry };
    } else {
      const version = `${now.toString(36)}${Math.random().toString(36).slice(2, 10)}`;
      const puts: Record<string, AttributeValue>[] = [];
      for (let i = 0, at = 0; at < value.length; i++, at += INLINE_BYTES) {
        puts.push({ p: PARTITION, k: { S: chunkKey(key, version, i) }, c: { N: '1' }, v: { B: value.subarray(at, at + INLINE_BYTES) }, ...expiry });
      }
      await this.batch(puts.map((Item) => ({ PutRequest: { Item } })));
      item = { p: PARTITION, k: { S: key }, ver: { S: version }, n: { N: String(puts.length) }, ...expiry };
    }
    const put = await this.send(() => this.client.send(new PutItemCommand({ TableName: this.table, Item: item, ReturnValues: 'ALL_OLD' })));
    await this.dropChunks(key, put.Attributes);
  }

  async delete(key: string): Promise<void> {
    const gone = await this.send(() => this.client.send(new DeleteItemCommand({ TableName: this.table, Key: { p: PARTITION, k: { S: key } }, ReturnValues: 'ALL_OLD' })));
    await this.dropChunks(key, gone.Attributes);
  }

  /** The chunks of a replaced or deleted value. */
  private async dropChunks(key: string, old: Record<string, AttributeValue> | undefined): Promise<void> {
    const version = old?.ver?.S;
    if (!version) return;
    const count = Number(old!.n?.N ?? 0);
    const deletes = Array.from({ length: count }, (_, i) => ({ DeleteRequest: { Key: { p: PARTITION, k: { S: chunkKey(key, version, i) } } } }));
    await this.batch(deletes);
  }

  private async batch(requests: NonNullable<ConstructorParameters<typeof BatchWriteItemCommand>[0]['RequestItems']>[string]): Promise<void> {
    for (let i = 0; i < requests.length; i += BATCH) {
      let pending = requests.slice(i, i + BATCH);
      for (let round = 0; pending.length > 0; round++) {
        if (round > 8) throw new KvStoreError(KV_ERROR.UNAVAILABLE, `DynamoDB kept refusing writes to ${this.table} (throttled)`);
        const done = await this.send(() => this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.table]: pending } })));
        pending = done.UnprocessedItems?.[this.table] ?? [];
        if (pending.length > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** round));
      }
    }
  }

  async list(prefix: string, cursor: string | undefined, limit: number): Promise<KvPage> {
    let start: Record<string, AttributeValue> | undefined;
    if (cursor !== undefined) {
      const after = Buffer.from(cursor, 'base64url').toString('utf8');
      if (Buffer.from(after, 'utf8').toString('base64url') !== cursor || !after.startsWith(prefix)) {
        throw new KvStoreError(KV_ERROR.INVALID, 'the cursor is not one this store issued for this prefix');
      }
      start = { p: PARTITION, k: { S: after } };
    }
    const page = await this.send(() =>
      this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: prefix ? 'p = :p AND begins_with(k, :prefix)' : 'p = :p',
          FilterExpression: 'attribute_not_exists(c) AND (attribute_not_exists(x) OR x > :now)',
          ExpressionAttributeValues: { ':p': PARTITION, ':now': { N: String(Date.now()) }, ...(prefix ? { ':prefix': { S: prefix } } : {}) },
          ProjectionExpression: 'k',
          ConsistentRead: true,
          Limit: limit,
          ExclusiveStartKey: start,
        }),
      ),
    );
    const keys = (page.Items ?? []).map((item) => item.k.S!);
    const last = page.LastEvaluatedKey?.k?.S;
    return last !== undefined ? { keys, cursor: Buffer.from(last, 'utf8').toString('base64url') } : { keys };
  }
}

/** A client configured the SDK's usual way (AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL, AWS_REGION, the credentials chain). */
export function dynamoClient(env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB ?? env.AWS_ENDPOINT_URL;
  return new DynamoDBClient({ ...(endpoint ? { endpoint } : {}), region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1' });
}

/** Creates each table that does not exist yet (on demand billing, TTL on `e`) and returns their ARNs. */
export async function ensureTables(client: DynamoDBClient, tables: string[], log: (message: string) => void): Promise<string[]> {
  const arns: string[] = [];
  for (const table of tables) {
    let arn: string | undefined;
    try {
      arn = (await client.send(new DescribeTableCommand({ TableName: table }))).Table?.TableArn;
    } catch (error) {
      if ((error as Error).name !== 'ResourceNotFoundException') throw error;
      const made = await client.send(
        new CreateTableCommand({
          TableName: table,
          AttributeDefinitions: [{ AttributeName: 'p', AttributeType: 'S' }, { AttributeName: 'k', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'p', KeyType: 'HASH' }, { AttributeName: 'k', KeyType: 'RANGE' }],
          BillingMode: 'PAY_PER_REQUEST',
          Tags: [{ Key: 'wfn', Value: 'kv' }],
        }),
      );
      arn = made.TableDescription?.TableArn;
      await waitUntilTableExists({ client, maxWaitTime: 120 }, { TableName: table });
      try {
        await client.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { Enabled: true, AttributeName: 'e' } }));
      } catch (ttlError) {
        // Already on (a table made by an earlier deploy that stopped half-way): fine.
        if (!/already enabled/i.test((ttlError as Error).message)) throw ttlError;
      }
      log(`created the DynamoDB table ${table} (on-demand, TTL on "e")`);
    }
    if (!arn) throw new Error(`DynamoDB gave no ARN for the table ${table}`);
    arns.push(arn);
  }
  return arns;
}
