/**
 * Runs kept under <project or cwd>/.wfn/bench/: one <timestamp>.json per run plus latest.json,
 * a pointer to the newest run, so the next run finds what to compare with.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import { BENCH_SCHEMA, type BenchResult } from './result.js';

export const LATEST = 'latest.json';

export function benchDir(baseDir: string): string {
  return path.join(baseDir, '.wfn', 'bench');
}

/** 2025-01-31T12:34:56.789Z -> 2025-01-31T12-34-56-789Z.json (no colons: valid on every file system). */
export function runFileName(createdAt: string): string {
  return `${createdAt.replace(/[:.]/g, '-')}.json`;
}

async function readRun(file: string): Promise<BenchResult | undefined> {
  try {
    const run = JSON.parse(await readFile(file, 'utf8')) as BenchResult;
    return run.schema === BENCH_SCHEMA ? run : undefined;
  } catch {
    return undefined; // a half-written or foreign file is not a previous run
  }
}

/**
 * The newest saved run of the same function (by subject name): latest.json when it matches,
 * else the newest matching file, so benchmarking two functions from one folder compares
 * each with its own history.
 */
export async function findPreviousRun(dir: string, subjectName: string): Promise<{ run: BenchResult; file: string } | undefined> {
  if (!existsSync(dir)) return undefined;
  try {
    const pointer = JSON.parse(await readFile(path.join(dir, LATEST), 'utf8')) as { file?: string };
    if (pointer.file) {
      const file = path.join(dir, path.basename(pointer.file));
      const run = await readRun(file);
      if (run?.subject.name === subjectName) return { run, file };
    }
  } catch {
    // no pointer yet, or unreadable: scan instead
  }
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json') && f !== LATEST).sort().reverse();
  for (const name of files) {
    const file = path.join(dir, name);
    const run = await readRun(file);
    if (run?.subject.name === subjectName) return { run, file };
  }
  return undefined;
}

/** Writes the run and moves latest.json to it. Returns the run's file. */
export async function saveRun(dir: string, run: BenchResult): Promise<string> {
  const file = path.join(dir, runFileName(run.createdAt));
  await writeFileAtomic(file, JSON.stringify({ ...run, file }, null, 1) + '\n');
  await writeFileAtomic(path.join(dir, LATEST), JSON.stringify({ file: path.basename(file), createdAt: run.createdAt, subject: run.subject.name }, null, 2) + '\n');
  return file;
}
