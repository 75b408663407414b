#!/usr/bin/env node
// Fast path: `wfn --version` answers without loading oclif (start-up stays ~1x `node -e 0`).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  const { readFileSync } = await import('node:fs');
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`wfn/${pkg.version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  // wfn supports Node 20; the AWS SDK's "Node < 22" notice on every deploy is noise for our users.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
