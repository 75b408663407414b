/**
 * Waiting on a condition instead of sleeping: tests order their steps by what the system
 * shows (a log line, a gauge), and the bound only catches a hang (a busy machine just waits longer).
 */
export async function until(what: string, check: () => boolean | Promise<boolean>, limitMs = 15_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > limitMs) throw new Error(`${what}: not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
