/**
 * structuredClone on @ungap/structured-clone (cycles, Map, Set, Date, RegExp, errors, typed
 * arrays, ArrayBuffer, BigInt, boxed primitives). What cannot be cloned (functions, symbols)
 * throws a DataCloneError DOMException, as the HTML Standard says. `transfer` is accepted;
 * transferred buffers are copied, not detached.
 */
import ungapClone from '@ungap/structured-clone';
import { defineGlobals } from './install.js';

export function structuredClone<T>(value: T, options?: { transfer?: unknown[] }): T {
  if (arguments.length === 0) throw new TypeError('structuredClone: 1 argument required');
  if (options !== undefined && options !== null && typeof options !== 'object') throw new TypeError('structuredClone: options must be an object');
  if (typeof value === 'function' || typeof value === 'symbol') {
    throw new DOMException(`${typeof value === 'function' ? 'A function' : 'A symbol'} could not be cloned`, 'DataCloneError');
  }
  try {
    return ungapClone(value, { lossy: false }) as T;
  } catch (error) {
    if (error instanceof TypeError) throw new DOMException(error.message, 'DataCloneError');
    throw error;
  }
}

defineGlobals({ structuredClone });
