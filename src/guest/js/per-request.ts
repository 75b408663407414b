/**
 * First module of a bundle built without the snapshot (`wfn build --no-snapshot`): there the
 * whole bundle is evaluated at the start of a request (per-request.ts in the toolchain), so
 * the host's imports exist while the top-level code runs. Imported before everything else,
 * it ends the initialization phase and seeds Math.random before the user's code can use them.
 */
import { reseedMathRandom } from './crypto.js';
import { startRequest } from './phase.js';

startRequest();
reseedMathRandom();
