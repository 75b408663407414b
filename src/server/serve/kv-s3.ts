/**
 * The key-value stores of `wfn serve --store s3`: one S3 object per key, in the bucket that
 * holds the functions, so every replica reads and writes the same stores.
 *
 *   s3://<bucket>/<prefix>kv/<function>/<store>/<key>   the value; metadata wfn-expires (ms since the epoch) when it has a TTL
 *
 * Consistency is S3's: a PUT replaces an object atomically (readers see the old or the new value,
 * never a mix) and S3 is strongly consistent for reads and lists after writes, so a value a
 * replica has written (the call returned) is what every replica reads next: no lost writes on a
 * key. Two writes racing on one key end with the later one (last writer wins, as Workers KV).
 * Expired values read as absent and are not listed (S3 lists no metadata, so a list asks each
 * key's expiry with a HEAD); they stay in the bucket until overwritten: a bucket lifecycle rule
 * on `<prefix>kv/` can remove old objects.
 */
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { KV_ERROR, type KvPage, type KvRequest, type KvResult } from '../../runtime/kv/abi.js';
import { KvStoreError, performOn, type KvStore } from '../../runtime/kv/store.js';

const EXPIRES = 'wfn-expires';
/** HEADs in flight at once while a list checks expiry. */
const HEAD_CONCURRENCY = 16;

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** A network failure or an S3 error: UNAVAILABLE with what S3 (or the connection) said. */
function unavailable(error: unknown): KvStoreError {
  if (error instanceof KvStoreError) return error;
  const e = error as Error & { $metadata?: { httpStatusCode?: number }; Code?: string };
  const status = e.$metadata?.httpStatusCode;
  return new KvStoreError(KV_ERROR.UNAVAILABLE, `S3 answered ${e.name ?? 'an error'}${status ? ` (HTTP ${status})` : ''}: ${e.message}`);
}

function expired(metadata: Record<string, string> | undefined, now: number): boolean {
  const at = metadata?.[EXPIRES];
  return at !== undefined && Number(at) <= now;
}

class S3KvStore implements KvStore {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    /** `<prefix>kv/<function>/<store>/` */
    private readonly base: string,
  ) {}

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.base + key }));
      if (expired(got.Metadata, Date.now())) {
        await got.Body?.transformToByteArray();
        return undefined;
      }
      return await got.Body!.transformToByteArray();
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw unavailable(error);
    }
  }

  async set(key: string, value: Uint8Array, ttlSeconds: number): Promise<void> {
    const Metadata = ttlSeconds > 0 ? { [EXPIRES]: String(Date.now() + ttlSeconds * 1000) } : undefined;
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.base + key, Body: value, ContentType: 'application/octet-stream', Metadata }));
    } catch (error) {
      throw unavailable(error);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.base + key }));
    } catch (error) {
      if (!isNotFound(error)) throw unavailable(error);
    }
  }

  async list(prefix: string, cursor: string | undefined, limit: number): Promise<KvPage> {
    let page;
    try {
      page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.base + prefix, MaxKeys: limit, ContinuationToken: cursor }));
    } catch (error) {
      const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (cursor !== undefined && (e.name === 'InvalidArgument' || e.$metadata?.httpStatusCode === 400)) {
        throw new KvStoreError(KV_ERROR.INVALID, 'the cursor is not one this store issued');
      }
      throw unavailable(error);
    }
    const keys = (page.Contents ?? []).map((o) => o.Key!.slice(this.base.length));
    const live = await this.unexpired(keys);
    const next = page.IsTruncated ? page.NextContinuationToken : undefined;
    return next ? { keys: live, cursor: next } : { keys: live };
  }

  /** The keys whose objects have not expired (one HEAD each, a few at a time). */
  private async unexpired(keys: string[]): Promise<string[]> {
    const now = Date.now();
    const keep = new Array<boolean>(keys.length).fill(false);
    let next = 0;
    const worker = async () => {
      while (next < keys.length) {
        const i = next++;
        try {
          const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.base + keys[i] }));
          keep[i] = !expired(head.Metadata, now);
        } catch (error) {
          if (!isNotFound(error)) throw unavailable(error); // deleted since the list: not listed
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(HEAD_CONCURRENCY, keys.length) }, worker));
    return keys.filter((_, i) => keep[i]);
  }
}

/** Every function's stores in one bucket: `perform(scope, request)` for the worker pool's remote stores. */
export class S3KvStores {
  private readonly stores = new Map<string, S3KvStore>();

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  /** The store `store` of function `scope` (names checked already: function names and store names are path-safe). */
  private storeOf(scope: string, store: string): S3KvStore {
    const base = `${this.prefix}kv/${scope}/${store}/`;
    let kv = this.stores.get(base);
    if (!kv) {
      kv = new S3KvStore(this.client, this.bucket, base);
      this.stores.set(base, kv);
    }
    return kv;
  }

  perform(scope: string, request: KvRequest): Promise<KvResult> {
    return Promise.resolve(performOn((name) => this.storeOf(scope, name), request));
  }
}
