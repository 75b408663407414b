/**
 * How the runtime's modules put their classes and functions on globalThis: writable,
 * configurable and not enumerable, as a platform's own globals are, under their own `name`.
 */
export function defineGlobals(globals: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(globals)) {
    // The runtime is bundled with minified names: a class keeps the name it is known by.
    if (typeof value === 'function' && value.name !== name) Object.defineProperty(value, 'name', { value: name, configurable: true });
    Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
  }
}
