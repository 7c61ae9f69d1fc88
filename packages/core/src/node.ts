// @mtl/core/node: the Node-only part of core (files on disk). The main entry stays browser-safe.
// Importing it registers the `file://` scheme (bare paths too) with the saved-format router.
export { fileHandler } from './file-io.js';
export { readChecksummedJson, writeFileAtomic, writeFileAtomicSync } from './fs.js';
