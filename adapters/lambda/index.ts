/**
 * The AWS Lambda target: a zip (index.mjs handler + the .wasm) for the Node.js runtime,
 * a local Function URL gateway, and deploy and operations through the AWS SDK.
 * See docs/targets/lambda.md.
 */
import type { TargetAdapter } from '../../src/target/types.js';
import { packageLambda } from './package.js';
import { describeLambda } from './where.js';

// The AWS SDK is heavy: load it only to deploy or operate.
const ops = () => import('./operate.js');

export const adapter: TargetAdapter = {
  name: 'lambda',
  package: packageLambda,
  async emulate(bundle, options) {
    const { emulateLambda } = await import('./emulator/index.js');
    return emulateLambda(bundle, options);
  },
  async deploy(bundle, options) {
    const { deployLambda } = await import('./deploy.js');
    return deployLambda(bundle, options);
  },
  operations: {
    describe: (name, options) => describeLambda(name, options.env),
    list: async (options) => (await ops()).listLambda(options),
    versions: async (name, options) => (await ops()).versionsLambda(name, options),
    rollback: async (name, to, options) => (await ops()).rollbackLambda(name, to, options),
    remove: async (name, options) => (await ops()).removeLambda(name, options),
    logs: async (name, options) => (await ops()).logsLambda(name, options),
  },
};
