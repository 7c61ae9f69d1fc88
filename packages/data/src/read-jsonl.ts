import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { isMtlError, MtlError } from '@mtl/core';
import type { ReadTableOptions } from './column-mapping.js';
import type { DictDataset } from './dict-dataset.js';
import { checkReadable } from './internal/check-readable.js';
import { JsonlRows } from './internal/jsonl-rows.js';

/**
 * Reads a JSON Lines file (one JSON object per line; blank lines skipped) into a
 * {@link DictDataset}, streaming line by line into growing typed arrays. Keys play the part of
 * columns in the mapping; a key may hold an array (vector field, ragged when lengths differ).
 * Class labels may be ids, class names (with `classes`) or `null` (abstain, -1); a `null` in any
 * other label (the whole value or one entry of its array) is a missing value, which abstains too, and
 * so is a label key absent from a line (absent from every line, it is `CSV_MISSING_COLUMN`).
 *
 * Errors name `file:line` (and the key): a line that is not JSON or not an object, or a value of
 * the wrong type (`DATA_INVALID`), a missing key (`CSV_MISSING_COLUMN`, the same code as a
 * missing CSV column), arrays of different lengths in a label (`DATA_SHAPE_MISMATCH`), no lines
 * (`DATA_EMPTY`).
 * @example
 * const ds = await readJsonl('data/tokens.jsonl', { fields: { tokens: 'ids' }, labels: { sentiment: 'label' } });
 */
export async function readJsonl(file: string, options: ReadTableOptions): Promise<DictDataset> {
  await checkReadable(file);
  const rows = new JsonlRows(file, options, 'readJsonl');
  const input = createReadStream(file, { encoding: 'utf8' });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  try {
    for await (const text of lines) rows.push(text, ++line);
  } catch (e) {
    input.destroy();
    if (isMtlError(e)) throw e;
    throw new MtlError('FILE_READ', (e as Error).message, { place: file, cause: e });
  }
  return rows.finish();
}
