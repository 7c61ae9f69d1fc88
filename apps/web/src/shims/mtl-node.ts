// @mtl/core/node, @mtl/data/node and @mtl/training/node in the page: file readers and writers,
// which the page never calls (it reads files through the browser).
import { noFiles } from './no-files.js';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const readCsv = (path: string): never => noFiles(`read ${path}`);
export const readJsonl = (path: string): never => noFiles(`read ${path}`);
export const readFashionMnist = (path: string): never => noFiles(`read ${path}`);
export const writeCsv = (path: string): never => noFiles(`write ${path}`);
export const writeJsonl = (path: string): never => noFiles(`write ${path}`);
export const writeFileAtomic = (path: string): never => noFiles(`write ${path}`);
export const writeFileAtomicSync = (path: string): never => noFiles(`write ${path}`);
export const readChecksummedJson = (path: string): never => noFiles(`read ${path}`);
export class JsonlMetricsLogger {
  constructor(path: string) {
    noFiles(`write ${path}`);
  }
}
export const readMetricsJsonl = (path: string): never => noFiles(`read ${path}`);
