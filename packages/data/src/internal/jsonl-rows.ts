// The JSON Lines reading shared by readJsonl (a file, streamed: Node) and parseJsonl (a text: any
// runtime): one line at a time into the column plans, the same checks and errors for both.
import { MtlError } from '@mtl/core';
import type { ReadTableOptions } from '../column-mapping.js';
import type { DictDataset } from '../dict-dataset.js';
import {
  buildDataset,
  cellPlace,
  type FieldPlan,
  type LabelPlan,
  parseClassValue,
  planColumns,
  pushStringCell,
  resolveFieldColumns,
} from './table.js';

type Row = Record<string, unknown>;

function numberAt(v: unknown, file: string, line: number, key: string, what: string): number {
  if (typeof v !== 'number') {
    throw new MtlError('DATA_INVALID', `${what}: ${JSON.stringify(v)} under "${key}" is not a number`, {
      place: cellPlace(file, line, key),
      details: { file, line, column: key },
    });
  }
  if (!Number.isFinite(v)) {
    // JSON.parse turns overflowing literals such as 1e999 into Infinity.
    throw new MtlError('DATA_NON_FINITE', `${what}: value under "${key}" is not finite`, {
      place: cellPlace(file, line, key),
    });
  }
  return v;
}

/** A label value: a number, or `null` for a missing one (NaN; the dataset makes it an abstain). */
function labelNumberAt(v: unknown, file: string, line: number, key: string, what: string): number {
  return v === null ? Number.NaN : numberAt(v, file, line, key, what);
}

/**
 * A label under a single key: a number or an array of numbers (entries may be `null`), or `null`
 * for a row without the label. Rows of `null` before the first value learn their width from it.
 */
function pushLabel(plan: LabelPlan, v: unknown, file: string, line: number, key: string, what: string): void {
  const pending = plan as LabelPlan & { pendingMissing?: number };
  if (v === null) {
    if (plan.mode === undefined) pending.pendingMissing = (pending.pendingMissing ?? 0) + 1;
    else for (let i = 0; i < (plan.mode === 'array' ? plan.rowLength! : 1); i++) plan.values.push(Number.NaN);
    return;
  }
  if (plan.mode === undefined && pending.pendingMissing !== undefined) {
    const width = Array.isArray(v) ? v.length : 1;
    for (let i = 0; i < pending.pendingMissing * width; i++) plan.values.push(Number.NaN);
    delete pending.pendingMissing;
  }
  pushFlexible(plan, v, file, line, key, what, false, true);
}

/** A label that was `null` on every line: one missing value per row. */
function flushMissing(plan: LabelPlan): void {
  const pending = plan as LabelPlan & { pendingMissing?: number };
  for (let i = 0; i < (pending.pendingMissing ?? 0); i++) plan.values.push(Number.NaN);
  delete pending.pendingMissing;
}

/** A categorical or text value: strings as they are; numbers and booleans (categorical) as text; null = "". */
function stringAt(v: unknown, file: string, line: number, key: string, what: string, kind: string): string {
  if (typeof v === 'string') return v;
  if (v === null) return '';
  if (kind === 'categorical' && (typeof v === 'number' || typeof v === 'boolean')) return String(v);
  throw new MtlError(
    'DATA_INVALID',
    `${what} (${kind}): ${JSON.stringify(v)} under "${key}" is not a string`,
    {
      place: cellPlace(file, line, key),
    },
  );
}

function keyValue(row: Row, key: string, file: string, line: number, what: string): unknown {
  if (!Object.hasOwn(row, key)) {
    throw new MtlError(
      'CSV_MISSING_COLUMN',
      `${what} needs key "${key}", which this line lacks (keys: ${Object.keys(row).join(', ')})`,
      { place: `${file}:${line}`, details: { file, line, column: key, keys: Object.keys(row) } },
    );
  }
  return row[key];
}

/** A single key holding a number (scalar rows) or an array of numbers (vector or ragged rows). */
function pushFlexible(
  plan: FieldPlan | LabelPlan,
  v: unknown,
  file: string,
  line: number,
  key: string,
  what: string,
  allowRagged: boolean,
  allowMissing = false,
): void {
  const read = allowMissing ? labelNumberAt : numberAt;
  const mode = Array.isArray(v) ? 'array' : 'scalar';
  plan.mode ??= mode;
  if (plan.mode !== mode) {
    throw new MtlError(
      'DATA_SHAPE_MISMATCH',
      `${what}: "${key}" holds ${mode === 'array' ? 'an array' : 'a number'} here but ${plan.mode === 'array' ? 'arrays' : 'numbers'} on earlier lines`,
      { place: cellPlace(file, line, key) },
    );
  }
  if (!Array.isArray(v)) {
    plan.values.push(read(v, file, line, key, what));
    return;
  }
  plan.rowLength ??= v.length;
  if (v.length !== plan.rowLength) {
    if (!allowRagged) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `${what}: "${key}" has ${v.length} values here but ${plan.rowLength} on the first line`,
        { place: cellPlace(file, line, key) },
      );
    }
    (plan as FieldPlan).ragged = true;
  }
  for (const x of v) plan.values.push(read(x, file, line, key, what));
  if ('offsets' in plan) plan.offsets.push(plan.values.length);
}

/** Rows of a JSON Lines text, pushed one line at a time; `finish` checks the labels and builds the dataset. */
export class JsonlRows {
  private readonly plans: ReturnType<typeof planColumns>;
  private rows = 0;
  private readonly seenLabelKeys = new Set<string>();

  constructor(
    private readonly file: string,
    private readonly options: ReadTableOptions,
    caller: string,
  ) {
    this.plans = planColumns(options, `${caller} ${file}`);
  }

  /** One line of the text (1-based `line`, for errors); blank lines are skipped. */
  push(text: string, line: number): void {
    const { file, plans, seenLabelKeys } = this;
    if (text.trim() === '') return;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (e) {
      throw new MtlError('DATA_INVALID', `line is not valid JSON (${(e as Error).message})`, {
        place: `${file}:${line}`,
        details: { file, line },
      });
    }
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new MtlError('DATA_INVALID', 'line is not a JSON object', { place: `${file}:${line}` });
    }
    const obj = row as Row;
    if (this.rows === 0) resolveFieldColumns(plans.fields, Object.keys(obj), `${file}:${line}`);
    for (const f of plans.fields) {
      const what = `field "${f.name}"`;
      if (f.kind !== 'number') {
        const key = f.columns[0]!;
        pushStringCell(f, stringAt(keyValue(obj, key, file, line, what), file, line, key, what, f.kind));
      } else if (f.vector) {
        for (const key of f.columns)
          f.values.push(numberAt(keyValue(obj, key, file, line, what), file, line, key, what));
      } else {
        const key = f.columns[0]!;
        pushFlexible(f, keyValue(obj, key, file, line, what), file, line, key, what, true);
      }
    }
    // A label key absent from a line is a missing label (as null); absent from every line, a typo.
    const labelValue = (key: string): unknown => {
      if (!Object.hasOwn(obj, key)) return null;
      seenLabelKeys.add(key);
      return obj[key];
    };
    for (const l of plans.labels) {
      const what = `label "${l.name}"`;
      if (l.kind === 'class') {
        const key = l.columns[0]!;
        l.values.push(parseClassValue(labelValue(key), l, file, line, key));
      } else if (l.vector) {
        for (const key of l.columns) l.values.push(labelNumberAt(labelValue(key), file, line, key, what));
      } else {
        const key = l.columns[0]!;
        pushLabel(l, labelValue(key), file, line, key, what);
      }
    }
    this.rows++;
  }

  finish(): DictDataset {
    const { file, plans, rows, options, seenLabelKeys } = this;
    if (rows === 0) throw new MtlError('DATA_EMPTY', 'the file has no JSON lines', { place: file });
    for (const l of plans.labels) {
      const absent = l.columns.find((key) => !seenLabelKeys.has(key));
      if (absent !== undefined) {
        throw new MtlError(
          'CSV_MISSING_COLUMN',
          `label "${l.name}" needs key "${absent}", which no line has (a line without it abstains)`,
          { place: file, details: { file, column: absent } },
        );
      }
      flushMissing(l);
    }
    return buildDataset(file, rows, plans, options);
  }
}
