/**
 * console: every method writes one line to stderr (the function's log), formatted the way
 * Node's console does for the common cases (printf-style %s %d %i %f %j %o %O %c, objects
 * inspected). QuickJS has no console of its own.
 */
import { log } from 'wfn:fn/host';
import { utf8Encode } from './encoding.js';
import { isInitializing } from './phase.js';

const MAX_DEPTH = 2;
const MAX_ITEMS = 100;

function quote(s: string): string {
  return "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n') + "'";
}

function keyText(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : quote(key);
}

/** A readable, Node-like rendering of any value (depth-limited, cycle-safe). */
export function inspect(value: unknown, depth = 0, seen: unknown[] = []): string {
  switch (typeof value) {
    case 'string':
      return depth === 0 ? value : quote(value);
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n`;
    case 'undefined':
      return 'undefined';
    case 'boolean':
      return String(value);
    case 'symbol':
      return value.toString();
    case 'function':
      return `[Function: ${value.name || '(anonymous)'}]`;
  }
  if (value === null) return 'null';
  const obj = value as object;
  if (seen.includes(obj)) return '[Circular]';
  if (obj instanceof Error) {
    const stack = typeof obj.stack === 'string' && obj.stack ? `\n${obj.stack.replace(/\n$/, '')}` : '';
    return `${obj.name}: ${obj.message}${stack}`;
  }
  if (obj instanceof Date) return isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString();
  if (obj instanceof RegExp) return String(obj);
  if (depth > MAX_DEPTH) return Array.isArray(obj) ? '[Array]' : '[Object]';
  const next = [...seen, obj];
  const inner = (v: unknown) => inspect(v, depth + 1, next);
  const list = (items: string[], open: string, close: string, prefix = '') => {
    if (items.length === 0) return `${prefix}${open}${close}`;
    const one = `${prefix}${open} ${items.join(', ')} ${close}`;
    return one.length <= 72 ? one : `${prefix}${open}\n${items.map((i) => '  '.repeat(depth + 1) + i).join(',\n')}\n${'  '.repeat(depth)}${close}`;
  };
  const capped = <T>(items: T[], render: (t: T) => string): string[] => {
    const out = items.slice(0, MAX_ITEMS).map(render);
    if (items.length > MAX_ITEMS) out.push(`... ${items.length - MAX_ITEMS} more items`);
    return out;
  };
  if (Array.isArray(obj)) return list(capped(obj, inner), '[', ']');
  if (ArrayBuffer.isView(obj) && !(obj instanceof DataView)) {
    const arr = Array.from(obj as unknown as ArrayLike<number>);
    return list(capped(arr, (n) => String(n)), '[', ']', `${obj.constructor.name}(${arr.length}) `);
  }
  if (obj instanceof Map) {
    return list(capped([...obj.entries()], ([k, v]) => `${inner(k)} => ${inner(v)}`), '{', '}', `Map(${obj.size}) `);
  }
  if (obj instanceof Set) return list(capped([...obj.values()], inner), '{', '}', `Set(${obj.size}) `);
  if (obj instanceof Promise) return 'Promise { <pending> }';
  const proto = Object.getPrototypeOf(obj);
  const name = proto && proto !== Object.prototype && proto.constructor?.name ? `${proto.constructor.name} ` : '';
  const custom = (obj as { [Symbol.toStringTag]?: string })[Symbol.toStringTag];
  const entries = Object.keys(obj).map((k) => `${keyText(k)}: ${inner((obj as Record<string, unknown>)[k])}`);
  if (entries.length === 0 && custom) return `${custom} {}`;
  return list(capped(entries, (e) => e), '{', '}', name);
}

/** console.log's formatting: printf-style substitutions in a leading string, then the rest inspected. */
export function format(args: unknown[]): string {
  if (args.length === 0) return '';
  const parts: string[] = [];
  let rest = args;
  if (typeof args[0] === 'string' && args[0].includes('%')) {
    let i = 1;
    const text = args[0].replace(/%([sdifjoOc%])/g, (match, spec: string) => {
      if (spec === '%') return '%';
      if (i >= args.length) return match;
      const arg = args[i++];
      switch (spec) {
        case 's':
          return typeof arg === 'string' ? arg : inspect(arg, 1);
        case 'd':
        case 'i': {
          if (typeof arg === 'bigint') return `${arg}n`;
          const n = Number(arg);
          return String(spec === 'i' ? Math.trunc(n) : n);
        }
        case 'f':
          return String(parseFloat(String(arg)));
        case 'j':
          try {
            return JSON.stringify(arg);
          } catch {
            return '[Circular]';
          }
        case 'c':
          return '';
        default:
          return inspect(arg, 1);
      }
    });
    parts.push(text);
    rest = args.slice(i);
  } else {
    parts.push(inspect(args[0]));
    rest = args.slice(1);
  }
  for (const arg of rest) parts.push(inspect(arg));
  return parts.join(' ');
}

function write(level: string | undefined, args: unknown[]): void {
  // Top-level code runs at build time, where there is no log to write to: dropped.
  if (isInitializing()) return;
  const line = format(args);
  log(utf8Encode((level ? `${level} ` : '') + line + '\n'));
}

const counts = new Map<string, number>();
const timers = new Map<string, number>();

/** The console object installed as globalThis.console. Everything goes to stderr. */
export const console = {
  log: (...args: unknown[]) => write(undefined, args),
  info: (...args: unknown[]) => write(undefined, args),
  debug: (...args: unknown[]) => write(undefined, args),
  warn: (...args: unknown[]) => write(undefined, args),
  error: (...args: unknown[]) => write(undefined, args),
  trace: (...args: unknown[]) => write('Trace:', [...args, new Error().stack ?? '']),
  assert: (condition?: unknown, ...args: unknown[]) => {
    if (!condition) write('Assertion failed:', args.length ? args : ['console.assert']);
  },
  dir: (value: unknown) => write(undefined, [inspect(value, 1)]),
  table: (value: unknown) => write(undefined, [value]),
  count: (label = 'default') => {
    const n = (counts.get(label) ?? 0) + 1;
    counts.set(label, n);
    write(undefined, [`${label}: ${n}`]);
  },
  countReset: (label = 'default') => void counts.delete(label),
  time: (label = 'default') => void timers.set(label, performance.now()),
  timeLog: (label = 'default', ...args: unknown[]) => {
    const start = timers.get(label);
    if (start !== undefined) write(undefined, [`${label}: ${(performance.now() - start).toFixed(3)}ms`, ...args]);
  },
  timeEnd: (label = 'default') => {
    const start = timers.get(label);
    timers.delete(label);
    if (start !== undefined) write(undefined, [`${label}: ${(performance.now() - start).toFixed(3)}ms`]);
  },
  group: (...args: unknown[]) => {
    if (args.length) write(undefined, args);
  },
  groupCollapsed: (...args: unknown[]) => {
    if (args.length) write(undefined, args);
  },
  groupEnd: () => {},
};
