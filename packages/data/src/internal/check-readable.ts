import { stat } from 'node:fs/promises';
import { isMtlError, MtlError } from '@mtl/core';

/** Fails early with FILE_NOT_FOUND / FILE_READ, so streams never start on a missing file. */
export async function checkReadable(file: string): Promise<void> {
  try {
    const s = await stat(file);
    if (!s.isFile()) throw new MtlError('FILE_READ', 'is not a file', { place: file });
  } catch (e) {
    if (isMtlError(e)) throw e;
    const code = (e as { code?: string }).code;
    if (code === 'ENOENT') throw new MtlError('FILE_NOT_FOUND', 'no such file', { place: file, cause: e });
    throw new MtlError('FILE_READ', (e as Error).message, { place: file, cause: e });
  }
}
