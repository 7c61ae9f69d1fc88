import { createReadStream } from 'node:fs';
import { isMtlError, MtlError } from '@mtl/core';
import { CsvError, parse } from 'csv-parse';
import type { ReadTableOptions } from './column-mapping.js';
import type { DictDataset } from './dict-dataset.js';
import {
  buildDataset,
  checkReadable,
  parseClassValue,
  parseLabelNumberCell,
  parseNumberCell,
  planColumns,
  pushStringCell,
  resolveFieldColumns,
} from './internal/table.js';

/**
 * Options of {@link readCsv}.
 * @example
 * await readCsv('data.tsv', { delimiter: '\t', fields: { x: ['a', 'b'] } });
 */
export interface ReadCsvOptions extends ReadTableOptions {
  /** Cell delimiter (default `,`). */
  delimiter?: string;
}

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
  const plans = planColumns(options, `readCsv ${file}`);
  const input = createReadStream(file);
  const parser = parse({
    bom: true,
    delimiter: options.delimiter ?? ',',
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
  });
  input.on('error', (e) => parser.destroy(e));
  input.pipe(parser);

  let header: string[] | null = null;
  let rows = 0;
  // Per field/label: the index of each of its columns in the header.
  let fieldIdx: number[][] = [];
  let labelIdx: number[][] = [];
  try {
    for await (const item of parser as AsyncIterable<CsvItem>) {
      const { record } = item;
      const line = item.info.lines;
      if (header === null) {
        header = record.map((h) => h.trim());
        const find = (column: string, what: string): number => {
          const i = header!.indexOf(column);
          if (i < 0) {
            throw new MtlError(
              'CSV_MISSING_COLUMN',
              `${what} needs column "${column}", which the header lacks (header: ${header!.join(', ')})`,
              { place: `${file}:${line}`, details: { file, column, header: [...header!] } },
            );
          }
          if (header!.indexOf(column, i + 1) >= 0) {
            throw new MtlError('DUPLICATE_NAME', `column "${column}" appears twice in the header`, {
              place: `${file}:${line}`,
            });
          }
          return i;
        };
        resolveFieldColumns(plans.fields, header, `${file}:${line}`);
        fieldIdx = plans.fields.map((f) => f.columns.map((c) => find(c, `field "${f.name}"`)));
        labelIdx = plans.labels.map((l) => l.columns.map((c) => find(c, `label "${l.name}"`)));
        continue;
      }
      if (record.length !== header.length) {
        throw new MtlError(
          'CSV_PARSE',
          `row has ${record.length} cells but the header has ${header.length}`,
          { place: `${file}:${line}`, details: { file, line, cells: record.length, header: header.length } },
        );
      }
      plans.fields.forEach((f, k) => {
        if (f.kind !== 'number') {
          pushStringCell(f, record[fieldIdx[k]![0]!]!);
          return;
        }
        for (const i of fieldIdx[k]!) {
          f.values.push(parseNumberCell(record[i]!, file, line, header![i]!, `field "${f.name}"`));
        }
      });
      plans.labels.forEach((l, k) => {
        for (const i of labelIdx[k]!) {
          const column = header![i]!;
          l.values.push(
            l.kind === 'class'
              ? parseClassValue(record[i], l, file, line, column)
              : parseLabelNumberCell(record[i]!, file, line, column, `label "${l.name}"`),
          );
        }
      });
      rows++;
    }
  } catch (e) {
    input.destroy();
    if (isMtlError(e)) throw e;
    if (e instanceof CsvError) {
      const line = (e as unknown as { lines?: number }).lines;
      throw new MtlError('CSV_PARSE', e.message, {
        place: line === undefined ? file : `${file}:${line}`,
        cause: e,
      });
    }
    throw new MtlError('FILE_READ', (e as Error).message, { place: file, cause: e });
  }
  if (header === null) throw new MtlError('DATA_EMPTY', 'the file is empty (no header)', { place: file });
  if (rows === 0) throw new MtlError('DATA_EMPTY', 'the file has a header but no rows', { place: file });
  return buildDataset(file, rows, plans, options);
}
