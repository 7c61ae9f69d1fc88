// @mtl/data/node: the Node-only part of data (files on disk). The main entry stays browser-safe.
export { type ReadCsvOptions, readCsv } from './read-csv.js';
export {
  FASHION_MNIST_DIR,
  FASHION_MNIST_PACKAGE,
  fashionMnistAvailable,
  fashionMnistFiles,
  readFashionMnist,
} from './read-fashion-mnist.js';
export { readIdx } from './read-idx.js';
export { readJsonl } from './read-jsonl.js';
export { type WriteTableOptions, writeCsv, writeJsonl } from './write-table.js';
