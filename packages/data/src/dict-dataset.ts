import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import type { Batch } from './batch.js';
import type { ColumnInput } from './field-input.js';
import {
  type Column,
  type ColumnDtype,
  type DenseColumn,
  gatherDense,
  gatherRagged,
  readRow,
  selectRows,
  toColumn,
} from './internal/columns.js';

export type { ColumnInput, DenseArray, NestedNumbers, RaggedArray, TypedNumberArray } from './field-input.js';

/**
 * What an input field may be given as: nested arrays, typed arrays, tensors, or flat `{values, shape}` / `{values, offsets}`.
 * @example
 * const point: FieldInput = { values: new Float32Array([0, 1, 2, 3]), shape: [2, 2] };
 * const tokens: FieldInput = [[5, 6, 7], [8]]; // ragged
 */
export type FieldInput = ColumnInput;
/**
 * What a label may be given as (as a field, but never ragged).
 * @example
 * const ids: LabelInput = new Int32Array([0, 1, -1]);
 */
export type LabelInput = ColumnInput;

/**
 * The kinds of label a dataset knows; see {@link DictDataset}.
 * @example
 * LABEL_KINDS.includes(ds.labelInfo('y').kind); // true
 */
export const LABEL_KINDS = ['class', 'soft', 'multilabel', 'regression'] as const;
/**
 * `class`: one integer id per row, -1 = abstain, stored int32; `soft`: a row of class probabilities;
 * `multilabel`: a row of 0/1 (or -1 = abstain) per label; `regression`: any finite numbers.
 * @example
 * new DictDataset('d', 'train', { x: [1, 2] }, { t: [1, 2] }, { labelKinds: { t: 'regression' } });
 */
export type LabelKind = (typeof LABEL_KINDS)[number];

/**
 * Options of {@link DictDataset}.
 * @example
 * new DictDataset('d', 'train', X, Y, { numClasses: { circle_task: 2 }, padValue: -1 });
 */
export interface DictDatasetOptions {
  /** Number of classes, for every class/soft label (a number) or per label name. Class ids must lie in [0, C) or be -1. */
  numClasses?: number | Record<string, number>;
  /** Declares a label's kind instead of inferring it (see {@link DictDataset}). */
  labelKinds?: Record<string, LabelKind>;
  /** Value that pads variable-length fields at collate (default 0). */
  padValue?: number;
  /**
   * Copy Float32Array/Int32Array inputs (default true). `false` adopts them as storage without a
   * copy: do not change them afterwards.
   */
  copy?: boolean;
  /**
   * The strings behind an int32 field's ids (`dictionary[id]`), for categorical and text fields
   * read from files: a vocabulary is fitted on these strings (see `fitPreprocessing`). Kept by `subset`.
   */
  dictionaries?: Record<string, readonly string[]>;
}

/**
 * Describes one input field.
 * @example
 * ds.fieldInfo('circle_data'); // {name: 'circle_data', dtype: 'float32', ragged: false, rowShape: [2]}
 */
export interface FieldInfo {
  name: string;
  dtype: ColumnDtype;
  /** Variable-length 1-D rows, padded at collate with a `<name>_mask`. */
  ragged: boolean;
  /** Shape of one row; for a ragged field, `[length of the longest row]`. */
  rowShape: number[];
}

/**
 * Describes one label.
 * @example
 * ds.labelInfo('circle_task'); // {name: 'circle_task', kind: 'class', dtype: 'int32', rowShape: [], numClasses: 2}
 */
export interface LabelInfo {
  name: string;
  kind: LabelKind;
  dtype: ColumnDtype;
  /** `[]` for class ids and scalar targets, `[C]` for soft / multi-label rows. */
  rowShape: number[];
  numClasses?: number;
}

interface LabelColumn {
  column: DenseColumn;
  kind: LabelKind;
  numClasses?: number;
}

/**
 * One row as plain numbers (scalar rows as numbers, others as flat arrays).
 * @example
 * ds.row(0); // {X: {circle_data: [0.5, -0.25]}, Y: {circle_task: 1}}
 */
export interface DatasetRow {
  X: Record<string, number | number[]>;
  Y: Record<string, number | number[]>;
}

const SOFT_TOLERANCE = 1e-3;

function checkName(what: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.includes('/')) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `${what} must be a non-empty string without "/" (it is part of score keys), got ${JSON.stringify(value)}`,
      { place: 'DictDataset' },
    );
  }
  return value;
}

// Label inference looks at the values present: NaN marks a missing one.
function isInteger(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isInteger(values[i]!) && !Number.isNaN(values[i]!)) return false;
  }
  return true;
}

function isSoft(col: DenseColumn): boolean {
  const { values, rowSize } = col;
  if (rowSize === 0) return false;
  for (let r = 0; r < col.length; r++) {
    if (missingRow(values, r, rowSize)) continue;
    let sum = 0;
    for (let j = r * rowSize; j < (r + 1) * rowSize; j++) {
      const v = values[j]!;
      if (!(v >= 0 && v <= 1)) return false;
      sum += v;
    }
    if (Math.abs(sum - 1) > SOFT_TOLERANCE) return false;
  }
  return true;
}

/** A soft row of -1: the abstain row. */
function abstainRow(values: ArrayLike<number>, r: number, rowSize: number): boolean {
  for (let j = r * rowSize; j < (r + 1) * rowSize; j++) if (values[j] !== -1) return false;
  return true;
}

/** A row whose every value is NaN: no label at all. */
function missingRow(values: ArrayLike<number>, r: number, rowSize: number): boolean {
  for (let j = r * rowSize; j < (r + 1) * rowSize; j++) if (!Number.isNaN(values[j]!)) return false;
  return true;
}

/** The values with NaN replaced by `fill` (a copy, and only when some value is NaN). */
function fillMissing<T extends Float32Array | Int32Array>(values: T, fill: number): T {
  if (!values.some((v) => Number.isNaN(v))) return values;
  return values.map((v) => (Number.isNaN(v) ? fill : v)) as T;
}

function isZeroOne(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== 0 && v !== 1 && !Number.isNaN(v)) return false;
  }
  return true;
}

/**
 * A named split of one data source: input fields (`X`) and optional labels (`Y`), each one value
 * per row. The length comes from the inputs, so unlabeled data (no `Y`) works for prediction.
 *
 * Every field is stored as one flat typed array (float32, or int32 when given as an Int32Array or
 * int32 tensor), so a batch is a gather of rows and one `tf.tensor` call. A field whose rows are
 * 1-D arrays of different lengths is ragged: collate pads it to the batch's longest row and adds a
 * `<field>_mask` (1 = real, 0 = pad).
 *
 * Labels: a label's kind is declared in `options.labelKinds` or inferred: one value per row, all
 * integers -> `class` (int32 ids, -1 = abstain); one non-integer per row -> `regression`; rows that
 * are probability vectors -> `soft`; rows of 0/1 -> `multilabel`; otherwise `regression`.
 *
 * Validation (codes): fields/labels of different lengths (`DATA_LENGTH_MISMATCH`), NaN/Infinity
 * (`DATA_NON_FINITE`, names field and row), rows of different shapes (`DATA_SHAPE_MISMATCH`), class
 * ids outside [0, numClasses) other than -1 (`LABEL_OUT_OF_RANGE`, names label and row).
 * @example
 * const ds = new DictDataset('circleDataset', 'train',
 *   { circle_data: [[0.1, 0.2], [0.9, -0.8]] }, { circle_task: [1, 0] }, { numClasses: 2 });
 * const batch = ds.collate([1, 0]); // X.circle_data [2, 2] float32, Y.circle_task [2] int32
 * disposeBatch(batch);
 */
export class DictDataset {
  readonly name: string;
  readonly split: string;
  /** Number of rows (from the input fields). */
  readonly length: number;
  readonly padValue: number;
  private readonly fields: Map<string, Column>;
  private readonly labels: Map<string, LabelColumn>;
  private readonly dictionaries: Map<string, readonly string[]>;

  constructor(
    name: string,
    split: string,
    X: Record<string, FieldInput>,
    Y: Record<string, LabelInput> = {},
    options: DictDatasetOptions = {},
  ) {
    this.name = checkName('dataset name', name);
    this.split = checkName('split', split);
    this.padValue = options.padValue ?? 0;
    const place = `dataset ${name}/${split}`;
    const copy = options.copy ?? true;
    const fieldNames = Object.keys(X);
    if (fieldNames.length === 0) {
      throw new MtlError('DATA_EMPTY', 'has no input fields (its length comes from the inputs)', { place });
    }
    this.fields = new Map();
    let first = '';
    let length = -1;
    for (const f of fieldNames) {
      const col = toColumn(X[f]!, { what: `field "${f}"`, place, allowRagged: true, copy });
      if (length < 0) {
        length = col.length;
        first = f;
      } else if (col.length !== length) {
        throw new MtlError(
          'DATA_LENGTH_MISMATCH',
          `field "${f}" has ${col.length} rows but field "${first}" has ${length}`,
          { place, details: { field: f, length: col.length, expected: length, reference: first } },
        );
      }
      this.fields.set(f, col);
    }
    for (const [f, col] of this.fields) {
      if (col.kind === 'ragged' && this.fields.has(`${f}_mask`)) {
        throw new MtlError(
          'DUPLICATE_NAME',
          `field "${f}_mask" clashes with the mask of ragged field "${f}"`,
          {
            place,
          },
        );
      }
    }
    this.length = length;
    this.dictionaries = new Map();
    for (const [f, dict] of Object.entries(options.dictionaries ?? {})) {
      this.dictionaries.set(f, checkDictionary(f, dict, this.fields.get(f), place));
    }
    this.labels = new Map();
    for (const l of Object.keys(options.labelKinds ?? {})) {
      if (!(l in Y)) {
        throw new MtlError(
          'UNKNOWN_FIELD',
          `labelKinds names label "${l}", which the dataset does not have`,
          {
            place,
          },
        );
      }
    }
    if (typeof options.numClasses === 'object') {
      for (const l of Object.keys(options.numClasses)) {
        if (!(l in Y)) {
          throw new MtlError(
            'UNKNOWN_FIELD',
            `numClasses names label "${l}", which the dataset does not have`,
            {
              place,
            },
          );
        }
      }
    }
    for (const l of Object.keys(Y)) {
      const col = toColumn(Y[l]!, {
        what: `label "${l}"`,
        place,
        allowRagged: false,
        copy,
        allowNaN: true,
      }) as DenseColumn;
      if (col.length !== length) {
        throw new MtlError(
          'DATA_LENGTH_MISMATCH',
          `label "${l}" has ${col.length} rows but field "${first}" has ${length}`,
          { place, details: { label: l, length: col.length, expected: length, reference: first } },
        );
      }
      this.labels.set(l, makeLabel(l, col, options, place));
    }
  }

  /** Names of the input fields, in the order given. */
  get fieldNames(): string[] {
    return [...this.fields.keys()];
  }

  /** Names of the labels, in the order given. */
  get labelNames(): string[] {
    return [...this.labels.keys()];
  }

  hasField(name: string): boolean {
    return this.fields.has(name);
  }

  hasLabel(name: string): boolean {
    return this.labels.has(name);
  }

  fieldInfo(name: string): FieldInfo {
    const col = this.field(name);
    return col.kind === 'ragged'
      ? { name, dtype: col.dtype, ragged: true, rowShape: [col.maxLength] }
      : { name, dtype: col.dtype, ragged: false, rowShape: [...col.rowShape] };
  }

  labelInfo(name: string): LabelInfo {
    const l = this.label(name);
    const info: LabelInfo = { name, kind: l.kind, dtype: l.column.dtype, rowShape: [...l.column.rowShape] };
    if (l.numClasses !== undefined) info.numClasses = l.numClasses;
    return info;
  }

  /** The stored flat values of a field (rows back to back; ragged: see `fieldOffsets`). Read only. */
  fieldValues(name: string): Float32Array | Int32Array {
    return this.field(name).values;
  }

  /** The strings behind a field's int32 ids (see {@link DictDatasetOptions.dictionaries}), if it has them. */
  fieldDictionary(name: string): readonly string[] | undefined {
    this.field(name);
    return this.dictionaries.get(name);
  }

  /** Row offsets of a ragged field (`length + 1` entries), or `null` for a fixed-shape field. */
  fieldOffsets(name: string): Int32Array | null {
    const col = this.field(name);
    return col.kind === 'ragged' ? col.offsets : null;
  }

  /** The stored flat values of a label: Int32Array ids for class labels, Float32Array otherwise. Read only. */
  labelValues(name: string): Float32Array | Int32Array {
    return this.label(name).column.values;
  }

  /** Row `i` as plain numbers. */
  row(i: number): DatasetRow {
    this.checkRow(i);
    const X: Record<string, number | number[]> = {};
    const Y: Record<string, number | number[]> = {};
    for (const [f, col] of this.fields) X[f] = readRow(col, i);
    for (const [l, lab] of this.labels) Y[l] = readRow(lab.column, i);
    return { X, Y };
  }

  /**
   * Gathers rows into a {@link Batch} of tensors (the caller disposes it). Fixed-shape fields become
   * `[B, ...rowShape]`; ragged fields `[B, maxLen]` plus `<field>_mask`; class labels int32 `[B]`.
   */
  collate(indices: ArrayLike<number>): Batch {
    const idx = Int32Array.from(indices);
    for (let k = 0; k < idx.length; k++) this.checkRow(idx[k]!);
    const b = idx.length;
    const X: Record<string, tf.Tensor> = {};
    const Y: Record<string, tf.Tensor> = {};
    for (const [f, col] of this.fields) {
      if (col.kind === 'dense') {
        X[f] = tf.tensor(gatherDense(col, idx), [b, ...col.rowShape], col.dtype);
      } else {
        const { values, mask, width } = gatherRagged(col, idx, this.padValue);
        X[f] = tf.tensor(values, [b, width], col.dtype);
        X[`${f}_mask`] = tf.tensor(mask, [b, width], 'float32');
      }
    }
    for (const [l, lab] of this.labels) {
      Y[l] = tf.tensor(gatherDense(lab.column, idx), [b, ...lab.column.rowShape], lab.column.dtype);
    }
    return { dataset: this.name, split: this.split, X, Y, size: b, indices: idx };
  }

  /**
   * A new dataset of the chosen rows (copied), in the given order, under `split` (default: this
   * split). Labels keep their kinds and class counts.
   * @example
   * const firstTen = ds.subset(Array.from({ length: 10 }, (_, i) => i), 'valid');
   */
  subset(indices: ArrayLike<number>, split: string = this.split): DictDataset {
    const idx = Int32Array.from(indices);
    for (let k = 0; k < idx.length; k++) this.checkRow(idx[k]!);
    const X: Record<string, FieldInput> = {};
    for (const [f, col] of this.fields) X[f] = columnInput(selectRows(col, idx));
    const Y: Record<string, LabelInput> = {};
    const labelKinds: Record<string, LabelKind> = {};
    const numClasses: Record<string, number> = {};
    for (const [l, lab] of this.labels) {
      Y[l] = columnInput(selectRows(lab.column, idx));
      labelKinds[l] = lab.kind;
      if (lab.numClasses !== undefined) numClasses[l] = lab.numClasses;
    }
    return new DictDataset(this.name, split, X, Y, {
      labelKinds,
      numClasses,
      padValue: this.padValue,
      copy: false,
      dictionaries: Object.fromEntries(this.dictionaries),
    });
  }

  /**
   * The same rows with more labels (e.g. a slice-aware model's slice labels): a new dataset of the
   * same name and split sharing this one's storage. A label name the dataset has is DUPLICATE_NAME.
   * @example
   * const more = ds.withLabels({ in_short: Int32Array.from([1, 0, 1]) }, { numClasses: { in_short: 2 } });
   */
  withLabels(
    labels: Record<string, LabelInput>,
    options: { labelKinds?: Record<string, LabelKind>; numClasses?: Record<string, number> } = {},
  ): DictDataset {
    const place = `dataset ${this.name}/${this.split}`;
    const X: Record<string, FieldInput> = {};
    for (const [f, col] of this.fields) X[f] = columnInput(col);
    const Y: Record<string, LabelInput> = {};
    const labelKinds: Record<string, LabelKind> = {};
    const numClasses: Record<string, number> = {};
    for (const [l, lab] of this.labels) {
      Y[l] = columnInput(lab.column);
      labelKinds[l] = lab.kind;
      if (lab.numClasses !== undefined) numClasses[l] = lab.numClasses;
    }
    for (const [l, values] of Object.entries(labels)) {
      if (this.labels.has(l)) {
        throw new MtlError('DUPLICATE_NAME', `the dataset already has a label "${l}"`, { place });
      }
      Y[l] = values;
    }
    return new DictDataset(this.name, this.split, X, Y, {
      labelKinds: { ...labelKinds, ...options.labelKinds },
      numClasses: { ...numClasses, ...options.numClasses },
      padValue: this.padValue,
      copy: false,
      dictionaries: Object.fromEntries(this.dictionaries),
    });
  }

  private field(name: string): Column {
    const col = this.fields.get(name);
    if (col === undefined) {
      throw new MtlError('UNKNOWN_FIELD', `no field "${name}" (fields: ${this.fieldNames.join(', ')})`, {
        place: `dataset ${this.name}/${this.split}`,
      });
    }
    return col;
  }

  private label(name: string): LabelColumn {
    const lab = this.labels.get(name);
    if (lab === undefined) {
      const known = this.labelNames.length === 0 ? '(none)' : this.labelNames.join(', ');
      throw new MtlError('UNKNOWN_FIELD', `no label "${name}" (labels: ${known})`, {
        place: `dataset ${this.name}/${this.split}`,
      });
    }
    return lab;
  }

  private checkRow(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.length) {
      throw new MtlError('INVALID_ARGUMENT', `row ${i} is outside [0, ${this.length})`, {
        place: `dataset ${this.name}/${this.split}`,
      });
    }
  }
}

function checkDictionary(
  field: string,
  dict: readonly string[],
  col: Column | undefined,
  place: string,
): readonly string[] {
  if (col === undefined) {
    throw new MtlError(
      'UNKNOWN_FIELD',
      `dictionaries names field "${field}", which the dataset does not have`,
      {
        place,
      },
    );
  }
  if (!Array.isArray(dict) || col.dtype !== 'int32') {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `field "${field}" has a dictionary, so it must hold int32 ids and the dictionary a list of strings`,
      { place },
    );
  }
  for (let i = 0; i < col.values.length; i++) {
    const id = col.values[i]!;
    if (id < 0 || id >= dict.length) {
      throw new MtlError(
        'LABEL_OUT_OF_RANGE',
        `field "${field}" holds id ${id}, outside its dictionary of ${dict.length} strings`,
        { place: `${place} field "${field}"` },
      );
    }
  }
  return dict;
}

function columnInput(col: Column): FieldInput {
  return col.kind === 'dense'
    ? { values: col.values, shape: [col.length, ...col.rowShape] }
    : { values: col.values, offsets: col.offsets };
}

function inferKind(col: DenseColumn, explicitClasses: boolean): LabelKind {
  if (col.rowShape.length === 0) return explicitClasses || isInteger(col.values) ? 'class' : 'regression';
  if (col.rowShape.length === 1) {
    if (explicitClasses || isSoft(col)) return 'soft';
    if (isZeroOne(col.values)) return 'multilabel';
  }
  return 'regression';
}

function makeLabel(name: string, col: DenseColumn, options: DictDatasetOptions, place: string): LabelColumn {
  const lplace = `${place} label "${name}"`;
  const perLabel = typeof options.numClasses === 'object' ? options.numClasses[name] : undefined;
  const declared = options.labelKinds?.[name];
  if (declared !== undefined && !(LABEL_KINDS as readonly string[]).includes(declared)) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `unknown label kind "${declared}" (kinds: ${LABEL_KINDS.join(', ')})`,
      {
        place: lplace,
      },
    );
  }
  const kind = declared ?? inferKind(col, perLabel !== undefined);
  let numClasses = perLabel;
  if (
    numClasses === undefined &&
    typeof options.numClasses === 'number' &&
    (kind === 'class' || kind === 'soft')
  ) {
    numClasses = options.numClasses;
  }
  if (numClasses !== undefined && (!Number.isInteger(numClasses) || numClasses < 1)) {
    throw new MtlError('INVALID_ARGUMENT', `numClasses must be a positive integer, got ${numClasses}`, {
      place: lplace,
    });
  }
  const rowsOf = (rank: number, what: string): void => {
    if (col.rowShape.length !== rank) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `label "${name}" is ${kind} and needs ${what} per row, but its rows have shape [${col.rowShape.join(', ')}]`,
        { place: lplace },
      );
    }
  };
  // NaN (an empty cell, a JSON null) is a missing label of any kind: -1 for class ids and
  // multi-label cells, a row of -1 for soft rows, NaN itself for regression targets.
  const { rowSize } = col;
  let { values } = col;
  if (kind === 'class' || kind === 'multilabel') values = fillMissing(values, -1);
  switch (kind) {
    case 'class': {
      rowsOf(0, 'one class id');
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (!Number.isInteger(v)) {
          throw new MtlError('DATA_INVALID', `label "${name}" row ${i} is ${v}, not an integer class id`, {
            place: `${lplace} row ${i}`,
          });
        }
        if (v < -1 || (numClasses !== undefined && v >= numClasses)) {
          const range = numClasses === undefined ? 'ids must be >= 0' : `ids lie in [0, ${numClasses})`;
          throw new MtlError(
            'LABEL_OUT_OF_RANGE',
            `label "${name}" row ${i} is ${v}, outside the class range (${range}; -1 = abstain)`,
            { place: `${lplace} row ${i}`, details: { label: name, row: i, value: v, numClasses } },
          );
        }
      }
      const ints =
        col.dtype === 'int32' && values === col.values
          ? col
          : { ...col, dtype: 'int32' as const, values: Int32Array.from(values) };
      return numClasses === undefined ? { column: ints, kind } : { column: ints, kind, numClasses };
    }
    case 'soft': {
      rowsOf(1, 'a row of class probabilities');
      if (numClasses !== undefined && rowSize !== numClasses) {
        throw new MtlError(
          'DATA_SHAPE_MISMATCH',
          `label "${name}" has rows of ${rowSize} probabilities but numClasses is ${numClasses}`,
          { place: lplace },
        );
      }
      for (let r = 0; r < col.length; r++) {
        if (missingRow(values, r, rowSize) || abstainRow(values, r, rowSize)) continue;
        let sum = 0;
        for (let j = r * rowSize; j < (r + 1) * rowSize; j++) {
          const v = values[j]!;
          if (Number.isNaN(v)) {
            throw new MtlError(
              'DATA_INVALID',
              `label "${name}" row ${r} misses some probabilities: a soft row is complete or empty (abstain)`,
              { place: `${lplace} row ${r}` },
            );
          }
          if (v < 0 || v > 1) {
            throw new MtlError('DATA_INVALID', `label "${name}" row ${r} has ${v}, not a probability`, {
              place: `${lplace} row ${r}`,
            });
          }
          sum += v;
        }
        if (Math.abs(sum - 1) > SOFT_TOLERANCE) {
          throw new MtlError('DATA_INVALID', `label "${name}" row ${r} sums to ${sum}, not 1`, {
            place: `${lplace} row ${r}`,
          });
        }
      }
      break;
    }
    case 'multilabel': {
      rowsOf(1, 'a row of 0/1 labels');
      for (let i = 0; i < values.length; i++) {
        const v = values[i]!;
        if (v !== 0 && v !== 1 && v !== -1) {
          const r = Math.floor(i / rowSize);
          throw new MtlError(
            'LABEL_OUT_OF_RANGE',
            `label "${name}" row ${r} has ${v}; multi-label entries are 0, 1 or -1`,
            {
              place: `${lplace} row ${r}`,
              details: { label: name, row: r, value: v },
            },
          );
        }
      }
      break;
    }
    case 'regression':
      break;
  }
  if (kind === 'soft') values = fillMissing(values, -1);
  const floats =
    col.dtype === 'float32' && values === col.values
      ? col
      : { ...col, dtype: 'float32' as const, values: Float32Array.from(values) };
  return numClasses === undefined ? { column: floats, kind } : { column: floats, kind, numClasses };
}
