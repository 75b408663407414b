/** Watches a project's sources (not its build output) and calls back, debounced, on any change. */
import path from 'node:path';

const IGNORED = /[\\/](node_modules|dist|\.wfn|target|\.git)([\\/]|$)/;

export async function watchProject(dir: string, onChange: () => void, debounceMs = 80): Promise<{ close(): Promise<void> }> {
  const { watch } = await import('chokidar');
  const root = path.resolve(dir);
  const watcher = watch(root, {
    ignored: (p: string) => IGNORED.test(path.relative(root, p) ? `/${path.relative(root, p)}` : ''),
    ignoreInitial: true,
    awaitWriteFinish: { stabilityThreshold: 50, pollInterval: 20 },
  });
  let timer: NodeJS.Timeout | undefined;
  watcher.on('all', () => {
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    async close() {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
