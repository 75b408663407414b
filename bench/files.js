// Issue 23: what bundled files cost. On `wfn dev`, the per-request p50 of the AssemblyScript
// static template serving a 10 KB file (stat, ETag, open, read from the wfn.files section)
// beside a function answering the same 10 KB from code (a constant in the module), sequential
// and interleaved so both series see the same machine noise; and the artifact's size overhead
// per MiB of bundled files (the archive's headers and paths beyond the bytes themselves).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fmt, percentile, startChild, table, BIN, ROOT } from './lib.js';

const SAMPLES = Number(process.env.WFN_FILES_SAMPLES ?? 500);
const SIZE = 10 * 1024;
/** Text anyone can regenerate in code: the same bytes in the file and in the function. */
const LINE = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\n';
const TEN_KB = LINE.repeat(Math.ceil(SIZE / LINE.length)).slice(0, SIZE);

async function project(name, template) {
  const { scaffoldProject } = await import('../lib/src/project/scaffold.js');
  const parent = path.join(ROOT, '.wfn', 'bench', 'projects', 'files');
  await mkdir(parent, { recursive: true });
  const dir = path.join(parent, name);
  if (!existsSync(dir)) await scaffoldProject(name, 'assemblyscript', template, parent);
  return dir;
}

async function build(dir) {
  const { loadConfig } = await import('../lib/src/config/load.js');
  const { buildProject } = await import('../lib/src/pipeline/build.js');
  return buildProject(await loadConfig(dir));
}

async function timeMs(url, expect) {
  const t0 = performance.now();
  const res = await fetch(url);
  const body = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200 || body !== expect) throw new Error(`${url} answered ${res.status} with ${body.length} bytes, not the 10 KB`);
  return ms;
}

export async function benchFiles() {
  // The static template with the 10 KB file in public/.
  const staticDir = await project('static-10k', 'static');
  await writeFile(path.join(staticDir, 'public', 'ten.txt'), TEN_KB);
  await build(staticDir);
  // The same bytes from code: a function whose response body is a constant.
  const codeDir = await project('code-10k', 'http');
  await writeFile(
    path.join(codeDir, 'assembly', 'index.ts'),
    `// The 10 KB of bench/files.js answered from code, for the bundled-files benchmark.\n` +
      `import { respond } from "./cgi";\nrespond("", "text/plain; charset=utf-8", ${JSON.stringify(TEN_KB)});\n`,
  );
  await build(codeDir);

  const fromFile = await startChild([BIN, 'dev', '--port', '0'], /(http:\/\/127\.0\.0\.1:\d+\/)/, { cwd: staticDir });
  const fromCode = await startChild([BIN, 'dev', '--port', '0'], /(http:\/\/127\.0\.0\.1:\d+\/)/, { cwd: codeDir });
  const file = [];
  const code = [];
  try {
    for (let i = 0; i < SAMPLES + 50; i++) {
      const f = await timeMs(`${fromFile.url}ten.txt`, TEN_KB);
      const c = await timeMs(`${fromCode.url}`, TEN_KB);
      if (i < 50) continue;
      file.push(f);
      code.push(c);
    }
  } finally {
    await fromFile.stop();
    await fromCode.stop();
  }
  const p50 = (xs) => percentile([...xs].sort((a, b) => a - b), 50);
  const serving = { fileP50Ms: p50(file), codeP50Ms: p50(code), ratio: p50(file) / p50(code), samples: SAMPLES };

  // Size overhead: the same project without and with 8 MiB of files in 64 KiB pieces.
  const sizeDir = await project('size', 'static');
  const extra = path.join(sizeDir, 'public', 'extra');
  await rm(extra, { recursive: true, force: true });
  const without = (await build(sizeDir)).size;
  await mkdir(extra, { recursive: true });
  const pieces = 128;
  for (let i = 0; i < pieces; i++) await writeFile(path.join(extra, `piece-${String(i).padStart(3, '0')}.bin`), randomBytes(64 * 1024));
  const withFiles = (await build(sizeDir)).size;
  await rm(extra, { recursive: true, force: true });
  const filesMiB = (pieces * 64 * 1024) / 1048576;
  const overheadPerMiB = (withFiles - without - pieces * 64 * 1024) / filesMiB;
  const size = { withoutBytes: without, withBytes: withFiles, filesMiB, files: pieces, artifactBytesPerMiB: (withFiles - without) / filesMiB, overheadBytesPerMiB: overheadPerMiB };

  table(`Bundled files on wfn dev: a 10 KB file (AssemblyScript static template) vs the same bytes from code, ${SAMPLES} sequential requests each, interleaved`, [
    ['series', 'p50'],
    ['static template, public/ten.txt', fmt.ms(serving.fileP50Ms)],
    ['http template answering the same 10 KB from code', fmt.ms(serving.codeP50Ms)],
    ['ratio file / code', fmt.x(serving.ratio)],
  ]);
  table(`Artifact size per MiB of bundled files (${pieces} files of 64 KiB, random bytes)`, [
    ['figure', 'value'],
    ['artifact without / with the files', `${fmt.kb(without)} / ${fmt.kb(withFiles)}`],
    ['artifact bytes per MiB of files', `${Math.round(size.artifactBytesPerMiB)} (1 MiB = 1048576)`],
    ['overhead beyond the bytes, per MiB', `${Math.round(overheadPerMiB)} bytes (${((overheadPerMiB / 1048576) * 100).toFixed(3)} %)`],
  ]);
  return { serving, size };
}
