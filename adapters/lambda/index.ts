/**
 * The AWS Lambda target: a zip (index.mjs handler + the .wasm) for the Node.js runtime,
 * a local Function URL gateway, and deploy through @aws-sdk/client-lambda.
 * See docs/targets/lambda.md.
 */
import type { TargetAdapter } from '../../src/target/types.js';
import { packageLambda } from './package.js';

export const adapter: TargetAdapter = {
  name: 'lambda',
  package: packageLambda,
  async emulate(bundle, options) {
    const { emulateLambda } = await import('./emulator/index.js');
    return emulateLambda(bundle, options);
  },
  async deploy(bundle, options) {
    // The AWS SDK is heavy: load it only to deploy.
    const { deployLambda } = await import('./deploy.js');
    return deployLambda(bundle, options);
  },
};
