// @mtl/core/node, @mtl/data/node and @mtl/training/node in the page: the readers and writers work
// on the page's files (page-files.ts: the files the user chose, what the page wrote), with the
// packages' own parsing and checks (@mtl/data's parseCsv and parseJsonl are readCsv's and readJsonl's
// code for a text).
import { MtlError, parseChecksummedJson } from '@mtl/core';
import {
  type DictDataset,
  parseCsv,
  parseJsonl,
  type ReadCsvOptions,
  type ReadTableOptions,
} from '@mtl/data';
import { noFiles } from './no-files.js';
import { pageFileText, putPageFile } from './page-files.js';

function textOf(path: string): string {
  const text = pageFileText(path);
  if (text === undefined) throw new MtlError('FILE_NOT_FOUND', 'no such file', { place: path });
  return text;
}

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';
export const readCsv = async (path: string, options: ReadCsvOptions): Promise<DictDataset> =>
  parseCsv(textOf(path), path, options);
export const readChecksummedJson = (path: string): unknown => parseChecksummedJson(textOf(path), path);
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  putPageFile(path, data);
}
export const readJsonl = async (path: string, options: ReadTableOptions): Promise<DictDataset> =>
  parseJsonl(textOf(path), path, options);
export const readFashionMnist = (path: string): never => noFiles(`read ${path}`);
export const writeCsv = (path: string): never => noFiles(`write ${path}`);
export const writeJsonl = (path: string): never => noFiles(`write ${path}`);
export const writeFileAtomicSync = (path: string): never => noFiles(`write ${path}`);
export class JsonlMetricsLogger {
  constructor(path: string) {
    noFiles(`write ${path}`);
  }
}
export const readMetricsJsonl = (path: string): never => noFiles(`read ${path}`);
