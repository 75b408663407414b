/**
 * Whether the script is still initializing: its top-level code runs once, at build time,
 * under Wizer, where the host's imports (log, random) do not exist yet. `handle` flips this
 * at the start of every request (each request starts from the snapshot, where it is true).
 * Built without the snapshot, the whole script runs inside a request: per-request.ts flips
 * it before any other module is evaluated.
 */
let initializing = true;

export function isInitializing(): boolean {
  return initializing;
}

export function startRequest(): void {
  initializing = false;
}

export function notDuringInit(what: string): void {
  if (initializing) {
    throw new Error(`${what} is not available while the script initializes (its top-level code runs at build time): call it inside fetch()`);
  }
}
