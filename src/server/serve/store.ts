/** Picks the store `wfn serve --store` names. */
import path from 'node:path';
import { UserError } from '../../util/errors.js';
import { FileStore } from './store-file.js';
import type { StoreBackend } from './types.js';

export interface StoreChoice {
  kind: 'file' | 's3';
  dataDir: string;
  bucket?: string;
  prefix?: string;
}

export async function createStore(choice: StoreChoice): Promise<StoreBackend> {
  if (choice.kind === 'file') return new FileStore(path.resolve(choice.dataDir));
  if (!choice.bucket) throw new UserError('--store s3 needs a bucket.', 'Pass --s3-bucket NAME or set WFN_S3_BUCKET.');
  // The S3 SDK is loaded only when used.
  const { S3Store } = await import('./store-s3.js');
  return new S3Store({ bucket: choice.bucket, prefix: choice.prefix });
}
