import { CsvError, parse } from 'csv-parse/browser/esm/sync';
import type { DictDataset } from './dict-dataset.js';
import { CsvRows, csvFailure, csvParseOptions, type ReadCsvOptions } from './internal/csv-rows.js';

/**
 * Reads a CSV text (a file a page was given, a string in a test) into a {@link DictDataset} with
 * the same column mapping, checks and errors as `readCsv` of `@mtl/data/node`, which reads a file
 * on disk: `file` is the name errors give (`file:line:column`). Runs in a browser.
 * @example
 * const ds = parseCsv('x,y\n0.5,1\n', 'points.csv', { name: 'points', fields: { x: 'x' }, labels: { y: 'y' } });
 * ds.length; // 1
 */
export function parseCsv(text: string, file: string, options: ReadCsvOptions): DictDataset {
  const rows = new CsvRows(file, options, 'parseCsv');
  try {
    const records = parse(text, csvParseOptions(options)) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
    for (const item of records) rows.push(item.record, item.info.lines);
  } catch (e) {
    throw csvFailure(e, file, e instanceof CsvError);
  }
  return rows.finish();
}
