// @mtl/data/node: the Node-only part of data (files on disk). The main entry stays browser-safe.
export { type ReadCsvOptions, readCsv } from './read-csv.js';
export { readJsonl } from './read-jsonl.js';
export { type WriteTableOptions, writeCsv, writeJsonl } from './write-table.js';
