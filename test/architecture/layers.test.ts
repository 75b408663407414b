/**
 * The layers of docs/architecture.md, checked over the import graph of src/ and adapters/:
 * every import specifier of every .ts file (static, `export from`, dynamic `import()`, type
 * imports; parsed by TypeScript, so comments and strings do not count) must point to its
 * own layer or below, and the few rules inside a layer hold. A new upward arrow fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** A room of the code map and the layer it sits in (1 = bottom). */
interface Room {
  name: string;
  layer: number;
}

/** The room of a repository path (forward slashes), or undefined for a file outside src/ and adapters/. */
function roomOf(file: string): Room | undefined {
  const parts = file.split('/');
  if (parts[0] === 'adapters') {
    if (parts.length === 2) return { name: 'registry', layer: 5 };
    return { name: `adapter:${parts[1]}`, layer: 4 };
  }
  if (parts[0] !== 'src') return undefined;
  switch (parts[1]) {
    case 'util':
      return { name: 'util', layer: 1 };
    case 'runtime':
      return parts[2] === 'node' ? { name: 'runtime/node', layer: 2 } : { name: 'runtime', layer: 2 };
    case 'target':
    case 'http':
      return { name: parts[1], layer: 3 };
    case 'guest':
      return { name: 'guest', layer: 4 };
    case 'config':
    case 'toolchains':
    case 'pipeline':
    case 'server':
    case 'project':
    case 'bench':
      return { name: parts[1], layer: 4 };
    case 'cli':
    case 'commands':
      return { name: parts[1], layer: 5 };
    default:
      return { name: `unmapped:${parts[1]}`, layer: 0 };
  }
}

/** Why the import `from -> to` breaks the layers (to is a repository path, or a bare specifier), or undefined when it is allowed. */
function violation(from: string, to: string): string | undefined {
  const source = roomOf(from);
  if (!source) return undefined;
  if (source.layer === 0) return `${from} is in a folder the code map does not know (add it to docs/architecture.md and this test)`;
  if (!to.startsWith('src/') && !to.startsWith('adapters/')) {
    // A package or a node: builtin.
    if (source.name === 'runtime' && to.startsWith('node:')) return `the platform-neutral runtime imports ${to}`;
    if (source.name === 'guest' && !to.startsWith('wfn:')) return `guest code imports ${to} (it runs inside the function, where only wfn:fn/host exists)`;
    return undefined;
  }
  const target = roomOf(to);
  if (!target || target.layer === 0) return `${to} is in a folder the code map does not know`;
  if (target.layer > source.layer) return `${source.name} (layer ${source.layer}) imports ${target.name} (layer ${target.layer}), an arrow pointing up`;
  if (source.name === 'util' && target.name !== 'util') return 'util imports nothing from wfn';
  if (source.name === 'runtime' && target.name === 'runtime/node') return 'the platform-neutral runtime imports its Node-only part';
  if (source.name === 'guest' && target.name !== 'guest') return `guest code imports ${target.name}`;
  if (target.name === 'guest' && source.name !== 'guest') return `${source.name} imports guest code (the JS toolchain finds it as files, it does not import it)`;
  if (target.name.startsWith('adapter:') && !source.name.startsWith('adapter:') && source.name !== 'registry') {
    return `${source.name} imports an adapter (services get a TargetAdapter passed in; only the CLI reads adapters/index.ts)`;
  }
  if (source.name.startsWith('adapter:') && target.name.startsWith('adapter:') && source.name !== target.name) return `${source.name} imports ${target.name} (shared code goes down a layer)`;
  if (target.name === 'registry' && source.name !== 'cli' && source.name !== 'commands') return `${source.name} imports the target registry (only src/cli and src/commands read it)`;
  if (target.name === 'commands' && source.name !== 'commands') return `${source.name} imports a command`;
  return undefined;
}

function tsFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return tsFiles(rel);
    return entry.name.endsWith('.ts') ? [rel] : [];
  });
}

/** Every import of every .ts file under src/ and adapters/, resolved to a repository path where relative. */
function importGraph(): { from: string; to: string }[] {
  const edges: { from: string; to: string }[] = [];
  for (const file of [...tsFiles('src'), ...tsFiles('adapters')]) {
    const { importedFiles } = ts.preProcessFile(readFileSync(path.join(ROOT, file), 'utf8'), true, true);
    for (const { fileName } of importedFiles) {
      const to = fileName.startsWith('.') ? path.posix.join(path.posix.dirname(file), fileName) : fileName;
      edges.push({ from: file, to });
    }
  }
  return edges;
}

describe('layers (docs/architecture.md)', () => {
  const edges = importGraph();

  it('reads the whole graph (a parser that sees nothing would pass anything)', () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual({ from: 'src/commands/build.ts', to: 'src/pipeline/build.js' });
    expect(edges.some((e) => e.from === 'adapters/index.ts' && e.to.startsWith('adapters/'))).toBe(true);
  });

  it('no import points up a layer or breaks a rule of its room', () => {
    const broken = edges.flatMap(({ from, to }) => {
      const why = violation(from, to);
      return why ? [`${from} -> ${to}: ${why}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it('the check catches each kind of wrong arrow', () => {
    expect(violation('src/runtime/cgi.ts', 'src/server/dev.js')).toMatch(/arrow pointing up/);
    expect(violation('src/runtime/wasi.ts', 'node:fs')).toMatch(/platform-neutral/);
    expect(violation('src/runtime/invoke.ts', 'src/runtime/node/pool.js')).toMatch(/Node-only/);
    expect(violation('src/util/fs.ts', 'src/runtime/types.js')).toMatch(/arrow pointing up/);
    expect(violation('src/http/node-http.ts', 'src/config/types.js')).toMatch(/arrow pointing up/);
    expect(violation('src/project/deploy.ts', 'adapters/cloudflare/index.js')).toMatch(/imports an adapter/);
    expect(violation('src/project/deploy.ts', 'adapters/index.js')).toMatch(/arrow pointing up/);
    expect(violation('adapters/fastly/package.ts', 'adapters/cloudflare/package.js')).toMatch(/shared code goes down/);
    expect(violation('adapters/fastly/package.ts', 'adapters/index.js')).toMatch(/arrow pointing up/);
    expect(violation('src/bench/table.ts', 'src/cli/style.js')).toMatch(/arrow pointing up/);
    expect(violation('src/guest/js/http.ts', 'src/runtime/types.js')).toMatch(/guest code imports/);
    expect(violation('src/guest/js/http.ts', 'node:buffer')).toMatch(/guest code imports/);
    expect(violation('src/toolchains/javascript/bundle.ts', 'src/guest/js/serve.js')).toMatch(/imports guest code/);
    expect(violation('src/cli/base.ts', 'src/commands/build.js')).toMatch(/imports a command/);
    expect(violation('src/newroom/x.ts', 'src/util/errors.js')).toMatch(/does not know/);
    // And the arrows that are allowed.
    expect(violation('adapters/self-hosted/index.ts', 'src/server/serve/server.js')).toBeUndefined();
    expect(violation('src/commands/deploy.ts', 'adapters/index.js')).toBeUndefined();
    expect(violation('adapters/index.ts', 'adapters/fastly/index.js')).toBeUndefined();
    expect(violation('src/runtime/node/pool.ts', 'node:worker_threads')).toBeUndefined();
    expect(violation('src/guest/js/serve.ts', 'wfn:fn/host')).toBeUndefined();
  });
});
