// Internal (`@mtl/core/node-io`, not part of the public API). What packages' portable code reaches through nodeIo() when it runs in Node: never imported
// statically from a main entry, so browser bundles do not contain it.
export { readFile } from 'node:fs/promises';
export { join } from 'node:path';
export { writeFileAtomic } from './fs.js';
