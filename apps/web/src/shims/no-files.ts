import { MtlError } from '@mtl/core';

/** What every file function of the shims throws: a page has no file system. */
export function noFiles(what: string): never {
  throw new MtlError(
    'NOT_IMPLEMENTED',
    `${what}: a page has no files on disk (load a CSV with the file picker, keep models in IndexedDB)`,
    { place: 'page' },
  );
}
