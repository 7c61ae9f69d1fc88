import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import type { ColumnInput, DenseArray, RaggedArray, TypedNumberArray } from '../field-input.js';

/** The flat storage of one field or label: every row back to back in one typed array. */
export type FlatValues = Float32Array | Int32Array;
export type ColumnDtype = 'float32' | 'int32';

/** Rows of one fixed shape: row `i` is `values[i * rowSize, (i + 1) * rowSize)`. */
export interface DenseColumn {
  kind: 'dense';
  dtype: ColumnDtype;
  values: FlatValues;
  rowShape: number[];
  rowSize: number;
  length: number;
}

/** Variable-length 1-D rows: row `i` is `values[offsets[i], offsets[i + 1])`. */
export interface RaggedColumn {
  kind: 'ragged';
  dtype: ColumnDtype;
  values: FlatValues;
  offsets: Int32Array;
  length: number;
  maxLength: number;
}

export type Column = DenseColumn | RaggedColumn;

export function isTypedNumberArray(v: unknown): v is TypedNumberArray {
  return (
    ArrayBuffer.isView(v) &&
    !(v instanceof DataView) &&
    !(v instanceof BigInt64Array) &&
    !(v instanceof BigUint64Array)
  );
}

function isDenseArray(v: unknown): v is DenseArray {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'values' in v && 'shape' in v;
}

function isRaggedArray(v: unknown): v is RaggedArray {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'values' in v && 'offsets' in v;
}

export interface ConvertOptions {
  /** Used in messages: `field "x"` or `label "y"`. */
  what: string;
  /** Place prefix, e.g. `dataset circleDataset/train`. */
  place: string;
  allowRagged: boolean;
  /** Adopt Float32Array/Int32Array storage of flat inputs instead of copying it. */
  copy: boolean;
  /** NaN is a missing value (labels), not an error; Infinity still is. */
  allowNaN?: boolean;
}

function refused(v: number, o: ConvertOptions): boolean {
  return !Number.isFinite(v) && !(o.allowNaN === true && Number.isNaN(v));
}

function product(shape: readonly number[]): number {
  let p = 1;
  for (const d of shape) p *= d;
  return p;
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function rowPlace(o: ConvertOptions, row: number): string {
  return `${o.place} ${o.what} row ${row}`;
}

function nonFinite(o: ConvertOptions, row: number, value: number): MtlError {
  return new MtlError('DATA_NON_FINITE', `${o.what} has a non-finite value ${value} at row ${row}`, {
    place: rowPlace(o, row),
    details: { row, value },
  });
}

/** First row index whose value is not finite, for flat rows of `rowSize`; -1 when all are finite. */
function firstNonFinite(
  values: ArrayLike<number>,
  rowSize: number,
  o: ConvertOptions,
): { row: number; value: number } | null {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (refused(v, o)) return { row: rowSize > 0 ? Math.floor(i / rowSize) : 0, value: v };
  }
  return null;
}

function dtypeOfTyped(values: unknown): ColumnDtype {
  return values instanceof Int32Array ? 'int32' : 'float32';
}

function toFlat(values: TypedNumberArray | readonly number[], dtype: ColumnDtype, copy: boolean): FlatValues {
  if (dtype === 'int32') {
    if (values instanceof Int32Array) return copy ? values.slice() : values;
    return Int32Array.from(values as ArrayLike<number>);
  }
  if (values instanceof Float32Array) return copy ? values.slice() : values;
  return Float32Array.from(values as ArrayLike<number>);
}

/** Shape of a nested row, following first elements; `null` for something that is not numbers. */
function shapeOf(v: unknown): number[] | null {
  if (typeof v === 'number') return [];
  if (isTypedNumberArray(v)) return [v.length];
  if (Array.isArray(v)) {
    if (v.length === 0) return [0];
    const inner = shapeOf(v[0]);
    return inner === null ? null : [v.length, ...inner];
  }
  return null;
}

/** Writes a nested row into `out` at `at`, checking it has `shape` exactly; returns the next position. */
function flattenInto(
  v: unknown,
  shape: readonly number[],
  depth: number,
  out: FlatValues,
  at: number,
  o: ConvertOptions,
  row: number,
  rowShape: readonly number[],
): number {
  if (depth === shape.length) {
    if (typeof v !== 'number') {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `${o.what} row ${row} does not have the shape ${shapeText(rowShape)} of row 0`,
        {
          place: rowPlace(o, row),
        },
      );
    }
    if (refused(v, o)) throw nonFinite(o, row, v);
    out[at] = v;
    return at + 1;
  }
  const want = shape[depth]!;
  if (isTypedNumberArray(v) && depth === shape.length - 1) {
    if (v.length !== want) throw shapeMismatch(o, row, rowShape);
    for (let i = 0; i < want; i++) {
      const x = v[i]!;
      if (refused(x, o)) throw nonFinite(o, row, x);
      out[at + i] = x;
    }
    return at + want;
  }
  if (!Array.isArray(v) || v.length !== want) throw shapeMismatch(o, row, rowShape);
  for (const item of v) at = flattenInto(item, shape, depth + 1, out, at, o, row, rowShape);
  return at;
}

function shapeMismatch(o: ConvertOptions, row: number, rowShape: readonly number[]): MtlError {
  return new MtlError(
    'DATA_SHAPE_MISMATCH',
    `${o.what} row ${row} does not have the shape ${shapeText(rowShape)} of row 0`,
    { place: rowPlace(o, row), details: { row, rowShape: [...rowShape] } },
  );
}

function notNumbers(o: ConvertOptions, row: number, v: unknown): MtlError {
  const shown = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return new MtlError(
    'DATA_INVALID',
    `${o.what} row ${row} is not a number or an array of numbers: ${shown}`,
    {
      place: rowPlace(o, row),
    },
  );
}

function fromNested(rows: readonly unknown[], o: ConvertOptions): Column {
  const n = rows.length;
  const typedRows = n > 0 && rows.every((r) => isTypedNumberArray(r));
  const dtype: ColumnDtype = typedRows && rows.every((r) => r instanceof Int32Array) ? 'int32' : 'float32';
  if (n === 0) {
    return { kind: 'dense', dtype, values: new Float32Array(0), rowShape: [], rowSize: 1, length: 0 };
  }
  const shape0 = shapeOf(rows[0]);
  if (shape0 === null) throw notNumbers(o, 0, rows[0]);
  let ragged = false;
  for (let i = 1; i < n; i++) {
    const s = shapeOf(rows[i]);
    if (s === null) throw notNumbers(o, i, rows[i]);
    if (s.length !== shape0.length) throw shapeMismatch(o, i, shape0);
    if (s.length === 1 && s[0] !== shape0[0]) {
      if (!o.allowRagged) throw shapeMismatch(o, i, shape0);
      ragged = true;
    }
  }
  if (ragged) {
    const offsets = new Int32Array(n + 1);
    let maxLength = 0;
    for (let i = 0; i < n; i++) {
      const len = (rows[i] as ArrayLike<number>).length;
      offsets[i + 1] = offsets[i]! + len;
      if (len > maxLength) maxLength = len;
    }
    const values = dtype === 'int32' ? new Int32Array(offsets[n]!) : new Float32Array(offsets[n]!);
    for (let i = 0; i < n; i++) {
      flattenInto(rows[i], [offsets[i + 1]! - offsets[i]!], 0, values, offsets[i]!, o, i, [
        offsets[i + 1]! - offsets[i]!,
      ]);
    }
    return { kind: 'ragged', dtype, values, offsets, length: n, maxLength };
  }
  const rowSize = product(shape0);
  const values = dtype === 'int32' ? new Int32Array(n * rowSize) : new Float32Array(n * rowSize);
  let at = 0;
  for (let i = 0; i < n; i++) at = flattenInto(rows[i], shape0, 0, values, at, o, i, shape0);
  return { kind: 'dense', dtype, values, rowShape: shape0, rowSize, length: n };
}

/**
 * Converts any accepted input into flat storage, validating shapes and finiteness. Int32Array and
 * int32 tensors stay int32; everything else becomes float32.
 */
export function toColumn(input: ColumnInput, o: ConvertOptions): Column {
  if (input instanceof tf.Tensor) {
    if (input.rank === 0) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `${o.what} is a scalar tensor; it needs a first (row) dimension`,
        {
          place: `${o.place} ${o.what}`,
        },
      );
    }
    const dtype: ColumnDtype = input.dtype === 'int32' || input.dtype === 'bool' ? 'int32' : 'float32';
    if (input.dtype === 'string' || input.dtype === 'complex64') {
      throw new MtlError(
        'DATA_INVALID',
        `${o.what} is a ${input.dtype} tensor; only numeric tensors are accepted`,
        {
          place: `${o.place} ${o.what}`,
        },
      );
    }
    const data = input.dataSync() as TypedNumberArray;
    return fromFlat(data, input.shape, dtype, o, true);
  }
  if (isTypedNumberArray(input)) {
    return fromFlat(input, [input.length], dtypeOfTyped(input), o, o.copy);
  }
  if (isDenseArray(input)) {
    const expected = product(input.shape);
    if (input.shape.length === 0 || expected !== input.values.length) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `${o.what} has ${input.values.length} values, which does not fill the shape ${shapeText(input.shape)}`,
        { place: `${o.place} ${o.what}` },
      );
    }
    return fromFlat(input.values, input.shape, dtypeOfTyped(input.values), o, o.copy);
  }
  if (isRaggedArray(input)) {
    if (!o.allowRagged) {
      throw new MtlError('DATA_SHAPE_MISMATCH', `${o.what} cannot have rows of different lengths`, {
        place: `${o.place} ${o.what}`,
      });
    }
    return fromRaggedFlat(input, o);
  }
  if (Array.isArray(input)) return fromNested(input, o);
  throw new MtlError('DATA_INVALID', `${o.what} must be an array, a typed array or a tensor`, {
    place: `${o.place} ${o.what}`,
  });
}

function fromFlat(
  values: TypedNumberArray | readonly number[],
  shape: readonly number[],
  dtype: ColumnDtype,
  o: ConvertOptions,
  copy: boolean,
): DenseColumn {
  const rowShape = shape.slice(1);
  const rowSize = product(rowShape);
  const bad = firstNonFinite(values, rowSize, o);
  if (bad !== null) throw nonFinite(o, bad.row, bad.value);
  return { kind: 'dense', dtype, values: toFlat(values, dtype, copy), rowShape, rowSize, length: shape[0]! };
}

function fromRaggedFlat(input: RaggedArray, o: ConvertOptions): Column {
  const n = input.offsets.length - 1;
  const offsets = Int32Array.from(input.offsets);
  if (n < 0 || offsets[0] !== 0 || offsets[n] !== input.values.length) {
    throw new MtlError(
      'DATA_SHAPE_MISMATCH',
      `${o.what} has offsets that do not run from 0 to its ${input.values.length} values`,
      { place: `${o.place} ${o.what}` },
    );
  }
  let maxLength = 0;
  for (let i = 0; i < n; i++) {
    const len = offsets[i + 1]! - offsets[i]!;
    if (len < 0) {
      throw new MtlError('DATA_SHAPE_MISMATCH', `${o.what} has decreasing offsets at row ${i}`, {
        place: rowPlace(o, i),
      });
    }
    if (len > maxLength) maxLength = len;
  }
  const values = toFlat(input.values, dtypeOfTyped(input.values), o.copy);
  for (let i = 0; i < values.length; i++) {
    if (refused(values[i]!, o)) {
      let row = 0;
      while (offsets[row + 1]! <= i) row++;
      throw nonFinite(o, row, values[i]!);
    }
  }
  return { kind: 'ragged', dtype: dtypeOfTyped(values), values, offsets, length: n, maxLength };
}

function newFlat(dtype: ColumnDtype, size: number): FlatValues {
  return dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
}

/** Gathers rows of a dense column into one new typed array (one copy per row, none per element for wide rows). */
export function gatherDense(col: DenseColumn, indices: ArrayLike<number>): FlatValues {
  const b = indices.length;
  const r = col.rowSize;
  const out = newFlat(col.dtype, b * r);
  const src = col.values;
  if (r === 1) {
    for (let k = 0; k < b; k++) out[k] = src[indices[k]!]!;
  } else {
    for (let k = 0; k < b; k++) {
      const start = indices[k]! * r;
      out.set(src.subarray(start, start + r), k * r);
    }
  }
  return out;
}

/** Gathers ragged rows, right-padding each to the longest row of the batch; returns values and a 0/1 mask. */
export function gatherRagged(
  col: RaggedColumn,
  indices: ArrayLike<number>,
  padValue: number,
): { values: FlatValues; mask: Float32Array; width: number } {
  const b = indices.length;
  let width = 0;
  for (let k = 0; k < b; k++) {
    const i = indices[k]!;
    const len = col.offsets[i + 1]! - col.offsets[i]!;
    if (len > width) width = len;
  }
  const values = newFlat(col.dtype, b * width);
  if (padValue !== 0) values.fill(padValue);
  const mask = new Float32Array(b * width);
  for (let k = 0; k < b; k++) {
    const i = indices[k]!;
    const start = col.offsets[i]!;
    const len = col.offsets[i + 1]! - start;
    values.set(col.values.subarray(start, start + len), k * width);
    mask.fill(1, k * width, k * width + len);
  }
  return { values, mask, width };
}

/** A copy of the chosen rows as a new column (for subsets and splits). */
export function selectRows(col: Column, indices: ArrayLike<number>): Column {
  if (col.kind === 'dense') {
    return { ...col, rowShape: [...col.rowShape], values: gatherDense(col, indices), length: indices.length };
  }
  const n = indices.length;
  const offsets = new Int32Array(n + 1);
  let maxLength = 0;
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    const len = col.offsets[i + 1]! - col.offsets[i]!;
    offsets[k + 1] = offsets[k]! + len;
    if (len > maxLength) maxLength = len;
  }
  const values = newFlat(col.dtype, offsets[n]!);
  for (let k = 0; k < n; k++) {
    const i = indices[k]!;
    values.set(col.values.subarray(col.offsets[i]!, col.offsets[i + 1]!), offsets[k]!);
  }
  return { kind: 'ragged', dtype: col.dtype, values, offsets, length: n, maxLength };
}

/** Row `i` as plain numbers: a number for scalar rows, else the flat row. */
export function readRow(col: Column, i: number): number | number[] {
  if (col.kind === 'ragged') return Array.from(col.values.subarray(col.offsets[i]!, col.offsets[i + 1]!));
  if (col.rowShape.length === 0) return col.values[i]!;
  return Array.from(col.values.subarray(i * col.rowSize, (i + 1) * col.rowSize));
}
