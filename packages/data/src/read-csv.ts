import { createReadStream } from 'node:fs';
import { CsvError, parse } from 'csv-parse';
import type { DictDataset } from './dict-dataset.js';
import { checkReadable } from './internal/check-readable.js';
import { CsvRows, csvFailure, csvParseOptions, type ReadCsvOptions } from './internal/csv-rows.js';

export type { ReadCsvOptions };

interface CsvItem {
  record: string[];
  info: { lines: number };
}

/**
 * Reads a CSV file with a header row into a {@link DictDataset}, streaming: rows go straight into
 * growing typed arrays, so the file is read once and never held whole in memory.
 *
 * An empty label cell is a missing label: it abstains, for every kind of label. An empty field cell
 * is an error.
 *
 * Errors name the place `file:line:column`: a mapped column missing from the header
 * (`CSV_MISSING_COLUMN`, lists the header), a cell that is not a number (`CSV_PARSE`, shows the
 * text), `NaN` / `Infinity` cells (`DATA_NON_FINITE`), a row with more or fewer cells than the
 * header (`CSV_PARSE`), no rows (`DATA_EMPTY`), a class id out of range (`LABEL_OUT_OF_RANGE`), a
 * column range or prefix that matches no column (`CSV_MISSING_COLUMN`).
 * @example
 * const train = await readCsv('data/circle.csv', {
 *   name: 'circleDataset', split: 'train',
 *   fields: { circle_data: ['x1', 'x2'] }, labels: { circle_task: { column: 'label', numClasses: 2 } },
 * });
 */
export async function readCsv(file: string, options: ReadCsvOptions): Promise<DictDataset> {
  await checkReadable(file);
  const rows = new CsvRows(file, options, 'readCsv');
  const input = createReadStream(file);
  const parser = parse(csvParseOptions(options));
  input.on('error', (e) => parser.destroy(e));
  input.pipe(parser);
  try {
    for await (const item of parser as AsyncIterable<CsvItem>) rows.push(item.record, item.info.lines);
  } catch (e) {
    input.destroy();
    throw csvFailure(e, file, e instanceof CsvError);
  }
  return rows.finish();
}
