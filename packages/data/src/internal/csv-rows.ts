import { isMtlError, MtlError } from '@mtl/core';
import type { ReadTableOptions } from '../column-mapping.js';
import type { DictDataset } from '../dict-dataset.js';
import {
  buildDataset,
  type FieldPlan,
  type LabelPlan,
  parseClassValue,
  parseLabelNumberCell,
  parseNumberCell,
  planColumns,
  pushStringCell,
  resolveFieldColumns,
} from './table.js';

/**
 * Options of {@link readCsv} and {@link parseCsv}.
 * @example
 * await readCsv('data.tsv', { delimiter: '\t', fields: { x: ['a', 'b'] } });
 */
export interface ReadCsvOptions extends ReadTableOptions {
  /** Cell delimiter (default `,`). */
  delimiter?: string;
}

/** csv-parse's options for both readers (a streamed file in Node, a text in a page). */
export function csvParseOptions(options: ReadCsvOptions) {
  return {
    bom: true,
    delimiter: options.delimiter ?? ',',
    info: true,
    relax_column_count: true,
    skip_empty_lines: true,
  };
}

/**
 * The checks and storage of a CSV's records, one at a time (header first): the one place where a
 * CSV's cells become a dataset, whether the records come from a file stream or from a text.
 */
export class CsvRows {
  private readonly plans: { fields: FieldPlan[]; labels: LabelPlan[] };
  private header: string[] | null = null;
  private rows = 0;
  // Per field/label: the index of each of its columns in the header.
  private fieldIdx: number[][] = [];
  private labelIdx: number[][] = [];

  constructor(
    private readonly file: string,
    private readonly options: ReadCsvOptions,
    what: string,
  ) {
    this.plans = planColumns(options, `${what} ${file}`);
  }

  /** One record and the line it ends on. */
  push(record: string[], line: number): void {
    const { file, plans } = this;
    if (this.header === null) {
      const header = record.map((h) => h.trim());
      this.header = header;
      const find = (column: string, what: string): number => {
        const i = header.indexOf(column);
        if (i < 0) {
          throw new MtlError(
            'CSV_MISSING_COLUMN',
            `${what} needs column "${column}", which the header lacks (header: ${header.join(', ')})`,
            { place: `${file}:${line}`, details: { file, column, header: [...header] } },
          );
        }
        if (header.indexOf(column, i + 1) >= 0) {
          throw new MtlError('DUPLICATE_NAME', `column "${column}" appears twice in the header`, {
            place: `${file}:${line}`,
          });
        }
        return i;
      };
      resolveFieldColumns(plans.fields, header, `${file}:${line}`);
      this.fieldIdx = plans.fields.map((f) => f.columns.map((c) => find(c, `field "${f.name}"`)));
      this.labelIdx = plans.labels.map((l) => l.columns.map((c) => find(c, `label "${l.name}"`)));
      return;
    }
    const header = this.header;
    if (record.length !== header.length) {
      throw new MtlError('CSV_PARSE', `row has ${record.length} cells but the header has ${header.length}`, {
        place: `${file}:${line}`,
        details: { file, line, cells: record.length, header: header.length },
      });
    }
    plans.fields.forEach((f, k) => {
      if (f.kind !== 'number') {
        pushStringCell(f, record[this.fieldIdx[k]![0]!]!);
        return;
      }
      for (const i of this.fieldIdx[k]!) {
        f.values.push(parseNumberCell(record[i]!, file, line, header[i]!, `field "${f.name}"`));
      }
    });
    plans.labels.forEach((l, k) => {
      for (const i of this.labelIdx[k]!) {
        const column = header[i]!;
        l.values.push(
          l.kind === 'class'
            ? parseClassValue(record[i], l, file, line, column)
            : parseLabelNumberCell(record[i]!, file, line, column, `label "${l.name}"`),
        );
      }
    });
    this.rows++;
  }

  /** The dataset, once every record is in. */
  finish(): DictDataset {
    const { file } = this;
    if (this.header === null)
      throw new MtlError('DATA_EMPTY', 'the file is empty (no header)', { place: file });
    if (this.rows === 0)
      throw new MtlError('DATA_EMPTY', 'the file has a header but no rows', { place: file });
    return buildDataset(file, this.rows, this.plans, this.options);
  }
}

/** A failure while parsing, as an MtlError naming the file (and line, when csv-parse knows it). */
export function csvFailure(e: unknown, file: string, isCsvError: boolean): MtlError {
  if (isMtlError(e)) return e;
  if (isCsvError) {
    const line = (e as { lines?: number }).lines;
    return new MtlError('CSV_PARSE', (e as Error).message, {
      place: line === undefined ? file : `${file}:${line}`,
      cause: e,
    });
  }
  return new MtlError('FILE_READ', (e as Error).message, { place: file, cause: e });
}
