// node:fs for the app's modules in a page: reads and writes go to the page's files (the files the
// user chose, placed where the app looks for them: page-files.ts); anything else says that a page
// has no disk instead of failing at import.
import { noFiles } from './no-files.js';
import { pageFileBytes, pageFileExists, putPageFile } from './page-files.js';

/** What Node's fs throws for a missing file, so the app's own handling (FILE_NOT_FOUND) applies. */
function enoent(path: string): Error {
  return Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: 'ENOENT' });
}

export const existsSync = (path: string): boolean => pageFileExists(path);
export function readFileSync(path: string, encoding?: string | { encoding?: string }): string | Uint8Array {
  const bytes = pageFileBytes(path);
  if (bytes === undefined) throw enoent(path);
  const enc = typeof encoding === 'string' ? encoding : encoding?.encoding;
  return enc === undefined ? bytes : new TextDecoder().decode(bytes);
}
export function statSync(path: string): { isFile(): boolean; isDirectory(): boolean; size: number } {
  const bytes = pageFileBytes(path);
  if (bytes === undefined && !pageFileExists(path)) throw enoent(path);
  return {
    isFile: () => bytes !== undefined,
    isDirectory: () => bytes === undefined,
    size: bytes?.length ?? 0,
  };
}
export const writeFileSync = (path: string, data: string | Uint8Array): void => putPageFile(path, data);
export const readdirSync = (path: string): never => noFiles(`list ${path}`);
export const mkdirSync = (path: string): never => noFiles(`create ${path}`);
export const mkdtempSync = (path: string): never => noFiles(`create ${path}`);
export const rmSync = (path: string): never => noFiles(`remove ${path}`);
export const rmdirSync = (path: string): never => noFiles(`remove ${path}`);
export const cpSync = (path: string): never => noFiles(`copy ${path}`);
export default { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync, rmSync };
