/** siblingFile (src/util/paths.ts) and formatBytes (src/util/bytes.ts): the one resolver and the one formatter. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/util/bytes.js';
import { packageRoot, siblingFile } from '../../src/util/paths.js';

const root = packageRoot();
const url = (rel: string) => pathToFileURL(path.join(root, rel)).href;

describe('siblingFile', () => {
  it('from the sources: a script to run is the built copy under lib/, an entry to bundle is the .ts beside', () => {
    expect(siblingFile(url('src/runtime/node/pool.ts'), 'pool-worker', 'run')).toBe(path.join(root, 'lib', 'src', 'runtime', 'node', 'pool-worker.js'));
    expect(siblingFile(url('adapters/cloudflare/package.ts'), 'shim', 'bundle')).toBe(path.join(root, 'adapters', 'cloudflare', 'shim.ts'));
    expect(siblingFile(url('adapters/fastly/adapter-module.ts'), 'adapter.wat', 'asset')).toBe(path.join(root, 'adapters', 'fastly', 'adapter.wat'));
  });

  it('from lib/: the .js beside; an asset tsc does not copy comes from the package', () => {
    if (!existsSync(path.join(root, 'lib', 'adapters', 'cloudflare', 'package.js'))) throw new Error('lib/ is not built: run "npm run build"');
    expect(siblingFile(url('lib/src/runtime/node/pool.js'), 'pool-worker', 'run')).toBe(path.join(root, 'lib', 'src', 'runtime', 'node', 'pool-worker.js'));
    expect(siblingFile(url('lib/adapters/cloudflare/package.js'), 'shim', 'bundle')).toBe(path.join(root, 'lib', 'adapters', 'cloudflare', 'shim.js'));
    expect(siblingFile(url('lib/adapters/fastly/adapter-module.js'), 'adapter.wat', 'asset')).toBe(path.join(root, 'adapters', 'fastly', 'adapter.wat'));
  });

  it('says what is missing and how to get it', () => {
    expect(() => siblingFile(url('src/runtime/node/pool.ts'), 'no-such-worker', 'run')).toThrow(/no-such-worker\.js is missing: run "npm run build" first/);
    expect(() => siblingFile(url('adapters/fastly/adapter-module.ts'), 'missing.wat', 'asset')).toThrow(/missing\.wat is missing: reinstall wfn/);
  });
});

describe('formatBytes', () => {
  it('prints binary units with their IEC names', () => {
    expect([0, 1023, 1024, 1536, 1048576, 5 * 1048576 + 1].map(formatBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '1.5 KiB', '1.00 MiB', '5.00 MiB']);
  });
});
