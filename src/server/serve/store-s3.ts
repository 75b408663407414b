/**
 * The S3 store: the same layout as the file store, as objects in an S3-compatible bucket, so
 * any number of `wfn serve` replicas share one set of functions. A PUT of an object is atomic
 * (readers see the old or the new object), and a deploy writes the blob before the record
 * that names it. Endpoint, region and credentials come from the AWS SDK's usual settings
 * (AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3, AWS_REGION, AWS_ACCESS_KEY_ID, profiles, IAM roles).
 *
 *   s3://<bucket>/<prefix>blobs/<sha256>.wasm
 *   s3://<bucket>/<prefix>functions/<name>.json
 *   s3://<bucket>/<prefix>secrets/<name>/<id>.json   a function's secret values (server-side encrypted)
 *   s3://<bucket>/<prefix>kv/<name>/<store>/<key>    a function's key-value stores (kv-s3.ts), shared by the replicas
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { UserError } from '../../util/errors.js';
import type { BlobInfo, FunctionRecord, StoreBackend } from './types.js';
import type { KvRequest, KvResult } from '../../runtime/kv/abi.js';
import type { KvHosting } from '../../runtime/node/pool.js';
import { S3KvStores } from './kv-s3.js';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix, e.g. "prod/" (default none). */
  prefix?: string;
  /** Defaults to the SDK's own resolution; tests pass one. */
  client?: S3Client;
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** A client configured the SDK's usual way; S3-compatible endpoints (MinIO, moto, Ceph) get path-style URLs. */
export function defaultS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  const customEndpoint = Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
  return new S3Client({
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    forcePathStyle: env.WFN_S3_PATH_STYLE ? env.WFN_S3_PATH_STYLE === 'true' : customEndpoint,
  });
}

export class S3Store implements StoreBackend {
  readonly kind = 's3';
  /** Unreferenced blobs younger than this survive garbage collection: another replica may be between its blob and its record write. */
  readonly blobGraceMs = 10 * 60 * 1000;
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ? options.prefix.replace(/^\/+/, '').replace(/\/*$/, '/') : '';
    this.client = options.client ?? defaultS3Client();
    this.location = `s3://${this.bucket}/${this.prefix}`;
    this.kvStores = new S3KvStores(this.client, this.bucket, this.prefix);
  }

  private readonly kvStores: S3KvStores;

  /** A function's stores are objects in the bucket, called on the main thread (every replica shares them). */
  kvBackend(name: string): KvHosting['backend'] {
    return { kind: 'remote', scope: name };
  }

  kv(scope: string, request: KvRequest): Promise<KvResult> {
    return this.kvStores.perform(scope, request);
  }

  private recordKey(name: string): string {
    return `${this.prefix}functions/${name}.json`;
  }

  private secretsKey(name: string, id: string): string {
    if (!/^[a-f0-9-]{8,64}$/.test(id)) throw new Error(`invalid secrets id ${JSON.stringify(id)}`);
    return `${this.prefix}secrets/${name}/${id}.json`;
  }

  async putSecrets(name: string, id: string, values: Record<string, string>): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.secretsKey(name, id), Body: JSON.stringify(values), ContentType: 'application/json', ServerSideEncryption: 'AES256' }),
    );
  }

  async getSecrets(name: string, id: string): Promise<Record<string, string>> {
    const got = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.secretsKey(name, id) }));
    return JSON.parse(await got.Body!.transformToString('utf8')) as Record<string, string>;
  }

  async pruneSecrets(name: string, keep: string[]): Promise<void> {
    const base = `${this.prefix}secrets/${name}/`;
    for (const obj of await this.list(base)) {
      const id = obj.Key!.slice(base.length).replace(/\.json$/, '');
      if (!keep.includes(id)) await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: obj.Key! }));
    }
  }

  private blobKey(sha256: string): string {
    return `${this.prefix}blobs/${sha256}.wasm`;
  }

  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      const e = error as Error & { $metadata?: { httpStatusCode?: number } };
      if (isNotFound(error)) throw new UserError(`The S3 bucket "${this.bucket}" does not exist.`, 'Create it first (aws s3 mb s3://<bucket>), or pass another --s3-bucket.');
      throw new UserError(`Cannot reach the S3 bucket "${this.bucket}": ${e.name}${e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ''} ${e.message}`.trim(), 'Check AWS_ENDPOINT_URL, AWS_REGION and the credentials.');
    }
  }

  private async list(prefix: string): Promise<_Object[]> {
    const out: _Object[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) out.push(object); // up to 1,000 a page: no spread
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  async listRecords(): Promise<Map<string, string>> {
    const base = `${this.prefix}functions/`;
    const out = new Map<string, string>();
    for (const obj of await this.list(base)) {
      const name = obj.Key!.slice(base.length);
      if (name.endsWith('.json') && !name.includes('/')) out.set(name.slice(0, -'.json'.length), obj.ETag ?? String(obj.LastModified?.getTime()));
    }
    return out;
  }

  async readRecord(name: string): Promise<{ record: FunctionRecord; stamp: string } | undefined> {
    try {
      const got = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.recordKey(name) }));
      const text = await got.Body!.transformToString('utf-8');
      return { record: JSON.parse(text) as FunctionRecord, stamp: got.ETag ?? '' };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async writeRecord(record: FunctionRecord): Promise<string> {
    const put = await this.client.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: this.recordKey(record.name), Body: JSON.stringify(record, null, 2) + '\n', ContentType: 'application/json' }),
    );
    return put.ETag ?? '';
  }

  async deleteRecord(name: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.recordKey(name) }));
  }

  async hasBlob(sha256: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.blobKey(sha256) }));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async putBlob(sha256: string, bytes: Uint8Array): Promise<void> {
    if (await this.hasBlob(sha256)) return;
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.blobKey(sha256), Body: bytes, ContentType: 'application/wasm' }));
  }

  async getBlob(sha256: string): Promise<Uint8Array> {
    const got = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.blobKey(sha256) }));
    return got.Body!.transformToByteArray();
  }

  async listBlobs(): Promise<BlobInfo[]> {
    const base = `${this.prefix}blobs/`;
    return (await this.list(base))
      .filter((o) => o.Key!.endsWith('.wasm'))
      .map((o) => ({ sha256: o.Key!.slice(base.length, -'.wasm'.length), modifiedMs: o.LastModified?.getTime() ?? 0 }));
  }

  async deleteBlob(sha256: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.blobKey(sha256) }));
  }

  close(): void {
    this.client.destroy();
  }
}
