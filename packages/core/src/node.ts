// @mtl/core/node: the Node-only part of core (files on disk). The main entry stays browser-safe.
export { readChecksummedJson, writeFileAtomic, writeFileAtomicSync } from './fs.js';
