import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { isMtlError, MtlError } from '@mtl/core';
import { type IdxArray, type ParseIdxOptions, parseIdx } from './idx.js';
import { checkReadable } from './internal/check-readable.js';

const gunzipAsync = promisify(gunzip);

/**
 * Reads an IDX file (MNIST's format), gzipped or not (told apart by the gzip magic bytes, not by
 * the name), and parses it with {@link parseIdx}: a missing file is `FILE_NOT_FOUND`, a damaged
 * gzip stream, a bad magic number or a truncated file `DATA_INVALID`, each naming the file.
 * @example
 * const images = await readIdx('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz', { limit: 100 });
 * images.shape; // [100, 28, 28]
 */
export async function readIdx(file: string, options: Omit<ParseIdxOptions, 'place'> = {}): Promise<IdxArray> {
  await checkReadable(file);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new MtlError('FILE_READ', (e as Error).message, { place: file, cause: e });
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (e) {
      const reason = (e as Error).message;
      throw new MtlError('DATA_INVALID', `damaged gzip data (${reason}): the file may be truncated`, {
        place: file,
        cause: e,
      });
    }
  }
  try {
    return parseIdx(bytes, { ...options, place: file });
  } catch (e) {
    if (isMtlError(e)) throw e;
    throw new MtlError('DATA_INVALID', String(e), { place: file, cause: e });
  }
}
