import { isMtlError, MtlError } from '@mtl/core';
import {
  type ColumnMapping,
  FIELD_KINDS,
  type FieldColumns,
  type FieldKind,
  type LabelColumnSpec,
  type ReadTableOptions,
} from '../column-mapping.js';
import { expandColumnRange, selectColumns } from '../column-select.js';
import {
  DictDataset,
  type DictDatasetOptions,
  type FieldInput,
  type LabelInput,
  type LabelKind,
} from '../dict-dataset.js';
import { tokenize } from '../preprocessing.js';

/** A typed array that grows by doubling, so a file's rows are stored once, as they stream in. */
export class Growable {
  private data: Float32Array | Int32Array;
  length = 0;

  constructor(readonly dtype: 'float32' | 'int32') {
    this.data = dtype === 'int32' ? new Int32Array(1024) : new Float32Array(1024);
  }

  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger =
        this.dtype === 'int32'
          ? new Int32Array(this.data.length * 2)
          : new Float32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }

  /** The filled part; copied only when much of the buffer would be wasted. */
  finish(): Float32Array | Int32Array {
    return this.data.length > this.length * 1.25 + 1024
      ? this.data.slice(0, this.length)
      : this.data.subarray(0, this.length);
  }
}

export interface FieldPlan {
  name: string;
  /** Names and ranges as given, or a prefix; {@link resolveFieldColumns} turns them into `columns`. */
  items: string[] | undefined;
  prefix: string | undefined;
  columns: string[];
  /** Given as a list of columns, a range or a prefix: always a vector row, even of one column. */
  vector: boolean;
  kind: FieldKind;
  lowercase: boolean;
  /** Categorical and text fields: string -> id, in first-seen order (the dataset's dictionary). */
  dictionary: Map<string, number>;
  values: Growable;
  /** Row offsets, for a single JSONL key whose values are arrays. */
  offsets: Growable;
  /** JSONL: 'scalar' or 'array' once the first row decided. */
  mode?: 'scalar' | 'array';
  rowLength?: number;
  ragged: boolean;
}

export interface LabelPlan {
  name: string;
  columns: string[];
  vector: boolean;
  kind: LabelKind | undefined;
  classes: readonly string[] | undefined;
  numClasses: number | undefined;
  values: Growable;
  mode?: 'scalar' | 'array';
  rowLength?: number;
}

function columnList(c: string | readonly string[], what: string, place: string): string[] {
  const list = typeof c === 'string' ? [c] : [...c];
  if (list.length === 0 || list.some((x) => typeof x !== 'string' || x.length === 0)) {
    throw new MtlError('INVALID_ARGUMENT', `${what} needs one or more non-empty column names`, { place });
  }
  return list;
}

function planField(name: string, c: FieldColumns, place: string): FieldPlan {
  const what = `field "${name}"`;
  const spec =
    typeof c === 'string' || Array.isArray(c)
      ? { column: c as string | string[] }
      : (c as Exclude<FieldColumns, string | readonly string[]>);
  if (spec === null || typeof spec !== 'object') {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `${what} needs a column name, a list of names, or {column | prefix, kind}`,
      { place },
    );
  }
  const kind = spec.kind ?? 'number';
  if (!(FIELD_KINDS as readonly string[]).includes(kind)) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `${what}: unknown kind "${kind}" (kinds: ${FIELD_KINDS.join(', ')})`,
      { place },
    );
  }
  if ((spec.column === undefined) === (spec.prefix === undefined)) {
    throw new MtlError('INVALID_ARGUMENT', `${what} needs either "column" or "prefix"`, { place });
  }
  if (spec.prefix !== undefined && (typeof spec.prefix !== 'string' || spec.prefix.length === 0)) {
    throw new MtlError('INVALID_ARGUMENT', `${what}: "prefix" must be a non-empty string`, { place });
  }
  const items = spec.column === undefined ? undefined : columnList(spec.column, what, place);
  const single = typeof spec.column === 'string';
  if (kind !== 'number' && (!single || expandColumnRange(spec.column as string) !== null)) {
    throw new MtlError('INVALID_ARGUMENT', `${what} is ${kind} and is read from exactly one column`, {
      place,
    });
  }
  if (spec.lowercase !== undefined && kind !== 'text') {
    throw new MtlError('INVALID_ARGUMENT', `${what}: "lowercase" applies to text fields only`, { place });
  }
  const offsets = new Growable('int32');
  offsets.push(0);
  return {
    name,
    items,
    prefix: spec.prefix,
    columns: items === undefined ? [] : items,
    vector: !single,
    kind,
    lowercase: spec.lowercase ?? true,
    dictionary: new Map(),
    values: new Growable(kind === 'number' ? 'float32' : 'int32'),
    offsets,
    ragged: kind === 'text',
  };
}

/**
 * Resolves ranges and prefixes of every field against the file's columns (the CSV header, or the
 * keys of the first JSONL line); a single name that resolves to a range makes a vector field.
 */
export function resolveFieldColumns(fields: FieldPlan[], available: readonly string[], place: string): void {
  for (const f of fields) {
    const selector = f.prefix === undefined ? { items: f.items! } : { prefix: f.prefix };
    try {
      f.columns = selectColumns(selector, available, `field "${f.name}"`, place);
    } catch (e) {
      // The field's name in details lets an app point at its own config path.
      if (isMtlError(e))
        throw new MtlError(e.code, e.reason, { place, details: { ...e.details, field: f.name } });
      throw e;
    }
    if (f.prefix === undefined && !f.vector && f.columns.length !== 1) f.vector = true;
  }
}

/** The id of a categorical value or token, adding it to the field's dictionary when new. */
export function internString(plan: FieldPlan, text: string): number {
  let id = plan.dictionary.get(text);
  if (id === undefined) {
    id = plan.dictionary.size;
    plan.dictionary.set(text, id);
  }
  return id;
}

/** Pushes one categorical or text cell (text is tokenized into a ragged row). */
export function pushStringCell(plan: FieldPlan, text: string): void {
  if (plan.kind === 'categorical') {
    plan.values.push(internString(plan, text.trim()));
    return;
  }
  for (const token of tokenize(text, { lowercase: plan.lowercase }))
    plan.values.push(internString(plan, token));
  plan.offsets.push(plan.values.length);
}

/** Checks a column mapping and prepares one builder per field and label. */
export function planColumns(
  mapping: ColumnMapping,
  place: string,
): { fields: FieldPlan[]; labels: LabelPlan[] } {
  const fieldEntries = Object.entries(mapping.fields ?? {});
  if (fieldEntries.length === 0) {
    throw new MtlError('INVALID_ARGUMENT', 'the column mapping needs at least one field', { place });
  }
  const fields = fieldEntries.map(([name, c]) => planField(name, c, place));
  const labels = Object.entries(mapping.labels ?? {}).map(([name, spec]): LabelPlan => {
    const s: LabelColumnSpec = typeof spec === 'string' ? { column: spec } : spec;
    const columns = columnList(s.column, `label "${name}"`, place);
    const vector = typeof s.column !== 'string';
    const kind = s.kind ?? (vector ? undefined : 'class');
    if (kind === 'class' && columns.length !== 1) {
      throw new MtlError('INVALID_ARGUMENT', `class label "${name}" is read from exactly one column`, {
        place,
      });
    }
    if (s.classes !== undefined && kind !== 'class') {
      throw new MtlError('INVALID_ARGUMENT', `label "${name}" has classes but is not a class label`, {
        place,
      });
    }
    const numClasses = s.numClasses ?? s.classes?.length;
    return {
      name,
      columns,
      vector,
      kind,
      classes: s.classes,
      numClasses,
      values: new Growable(kind === 'class' ? 'int32' : 'float32'),
    };
  });
  return { fields, labels };
}

const NON_FINITE_TEXT = /^[+-]?(nan|inf|infinity)$/i;

/** Place of a cell in messages: `file:line:column`. */
export function cellPlace(file: string, line: number, column: string): string {
  return `${file}:${line}:${column}`;
}

/** Parses a numeric cell; `what` names the field or label for messages. */
export function parseNumberCell(
  text: string,
  file: string,
  line: number,
  column: string,
  what: string,
): number {
  const t = text.trim();
  const v = t === '' ? Number.NaN : Number(t);
  if (Number.isFinite(v)) return v;
  const place = cellPlace(file, line, column);
  if (NON_FINITE_TEXT.test(t) || (t !== '' && !Number.isNaN(v))) {
    throw new MtlError('DATA_NON_FINITE', `${what}: cell "${t}" in column "${column}" is not finite`, {
      place,
      details: { file, line, column, text: t },
    });
  }
  throw new MtlError(
    'CSV_PARSE',
    `${what}: cell ${JSON.stringify(t)} in column "${column}" is not a number`,
    { place, details: { file, line, column, text: t } },
  );
}

/**
 * Parses a cell of a soft, multi-label or regression label: a number, or an empty cell for a missing
 * value (NaN; the dataset makes it the abstain of the label's kind).
 */
export function parseLabelNumberCell(
  text: string,
  file: string,
  line: number,
  column: string,
  what: string,
): number {
  return text.trim() === '' ? Number.NaN : parseNumberCell(text, file, line, column, what);
}

/** Parses a class label cell: an integer id, a class name from `classes`, or empty / null for abstain (-1). */
export function parseClassValue(
  value: unknown,
  plan: LabelPlan,
  file: string,
  line: number,
  column: string,
): number {
  const place = cellPlace(file, line, column);
  if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '')) return -1;
  if (plan.classes !== undefined) {
    const text = typeof value === 'string' ? value.trim() : String(value);
    const id = plan.classes.indexOf(text);
    if (id < 0) {
      throw new MtlError(
        'LABEL_OUT_OF_RANGE',
        `label "${plan.name}": ${JSON.stringify(text)} in column "${column}" is not one of the classes (${plan.classes.join(', ')})`,
        { place, details: { file, line, column, text, classes: [...plan.classes] } },
      );
    }
    return id;
  }
  let v: number;
  if (typeof value === 'number') {
    v = value;
  } else if (typeof value === 'string') {
    v = parseNumberCell(value, file, line, column, `label "${plan.name}"`);
  } else {
    throw new MtlError(
      'DATA_INVALID',
      `label "${plan.name}": ${JSON.stringify(value)} in "${column}" is not a class id`,
      {
        place,
      },
    );
  }
  if (!Number.isFinite(v)) {
    throw new MtlError('DATA_NON_FINITE', `label "${plan.name}": ${v} in column "${column}" is not finite`, {
      place,
    });
  }
  if (!Number.isInteger(v)) {
    throw new MtlError(
      'CSV_PARSE',
      `label "${plan.name}": ${v} in column "${column}" is not an integer class id`,
      {
        place,
        details: { file, line, column, text: String(value) },
      },
    );
  }
  if (v < -1 || (plan.numClasses !== undefined && v >= plan.numClasses)) {
    const range = plan.numClasses === undefined ? 'ids must be >= 0' : `ids lie in [0, ${plan.numClasses})`;
    throw new MtlError(
      'LABEL_OUT_OF_RANGE',
      `label "${plan.name}": ${v} in column "${column}" is outside the class range (${range}; -1 = abstain)`,
      { place, details: { file, line, column, value: v, numClasses: plan.numClasses } },
    );
  }
  return v;
}

/** Assembles the dataset once every row is in; its own checks are prefixed with the file. */
export function buildDataset(
  file: string,
  rows: number,
  plans: { fields: FieldPlan[]; labels: LabelPlan[] },
  options: ReadTableOptions,
): DictDataset {
  const X: Record<string, FieldInput> = {};
  const dictionaries: Record<string, string[]> = {};
  for (const f of plans.fields) {
    const values = f.values.finish();
    if (f.kind !== 'number') dictionaries[f.name] = [...f.dictionary.keys()];
    if (f.kind === 'categorical') {
      X[f.name] = { values, shape: [rows] };
    } else if (f.ragged) {
      X[f.name] = { values, offsets: f.offsets.finish() };
    } else {
      const width = f.mode === 'array' ? f.rowLength! : f.columns.length;
      const scalar = f.mode === 'scalar' || (f.mode === undefined && !f.vector);
      X[f.name] = { values, shape: scalar ? [rows] : [rows, width] };
    }
  }
  const Y: Record<string, LabelInput> = {};
  const labelKinds: Record<string, LabelKind> = {};
  const numClasses: Record<string, number> = {};
  for (const l of plans.labels) {
    const values = l.values.finish();
    const width = l.mode === 'array' ? l.rowLength! : l.columns.length;
    const scalar = l.mode === 'scalar' || (l.mode === undefined && !l.vector);
    Y[l.name] = { values, shape: scalar ? [rows] : [rows, width] };
    if (l.kind !== undefined) labelKinds[l.name] = l.kind;
    if (l.numClasses !== undefined) numClasses[l.name] = l.numClasses;
  }
  const dsOptions: DictDatasetOptions = { labelKinds, numClasses, copy: false, dictionaries };
  if (options.padValue !== undefined) dsOptions.padValue = options.padValue;
  const name = options.name ?? fileStem(file);
  try {
    return new DictDataset(name, options.split ?? 'train', X, Y, dsOptions);
  } catch (e) {
    if (isMtlError(e)) throw e.within(file);
    throw e;
  }
}

/** A file's name without folder and extension (`data/circle.csv` -> `circle`), without node:path. */
function fileStem(file: string): string {
  const base = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? base : base.slice(0, dot);
}
