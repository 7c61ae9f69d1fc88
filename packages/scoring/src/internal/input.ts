import { MtlError } from '@mtl/core/base';
import type { Labels, Probs } from '../metric.js';

/** Golds or preds flattened row-major. */
export interface LabelTable {
  readonly data: Float64Array;
  readonly n: number;
  readonly width: number;
  readonly multiLabel: boolean;
}

/** Probabilities flattened row-major; one-column binary input is expanded to `[1 - p, p]`. */
export interface ProbTable {
  readonly data: Float64Array;
  readonly classes: number;
}

function isRow(x: unknown): x is ArrayLike<number> {
  return typeof x === 'object' && x !== null && typeof (x as ArrayLike<number>).length === 'number';
}

function checkNumber(v: unknown, place: string, allowNaN = false): number {
  if (typeof v !== 'number') {
    throw new MtlError('DATA_INVALID', `expected a number, got ${typeof v}`, { place });
  }
  if (!Number.isFinite(v) && !(allowNaN && Number.isNaN(v))) {
    throw new MtlError('DATA_NON_FINITE', `value is ${v}`, { place });
  }
  return v;
}

/**
 * Whether row `i` abstains: a gold or pred cell equals the abstain label, or a gold cell is NaN (a
 * missing target, whatever the abstain label).
 */
export function rowAbstains(
  golds: Float64Array,
  preds: Float64Array,
  width: number,
  i: number,
  abstainLabel: number | null,
): boolean {
  for (let l = 0; l < width; l++) {
    const g = golds[i * width + l]!;
    if (Number.isNaN(g)) return true;
    if (abstainLabel !== null && (g === abstainLabel || preds[i * width + l] === abstainLabel)) return true;
  }
  return false;
}

function checkRows(x: ArrayLike<unknown>, name: string): ArrayLike<ArrayLike<number>> {
  const n = x.length;
  for (let i = 0; i < n; i++) {
    if (!isRow(x[i])) {
      throw new MtlError('DATA_SHAPE_MISMATCH', `row 0 is an array but this row is ${typeof x[i]}`, {
        place: `${name}[${i}]`,
      });
    }
  }
  return x as ArrayLike<ArrayLike<number>>;
}

/**
 * Flattens golds or preds. Rows (arrays of arrays) mean multi-label; the width of row 0 is the width
 * of every row. `allowNaN` (golds): NaN marks a missing value.
 */
export function readLabels(x: Labels, name: string, allowNaN = false): LabelTable {
  if (!isRow(x)) {
    throw new MtlError('INVALID_ARGUMENT', `expected an array, got ${typeof x}`, { place: name });
  }
  const n = x.length;
  if (n === 0 || !isRow(x[0])) {
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = checkNumber(x[i], `${name}[${i}]`, allowNaN);
    return { data, n, width: 1, multiLabel: false };
  }
  const rows = checkRows(x, name);
  const width = rows[0].length;
  if (width === 0)
    throw new MtlError('DATA_SHAPE_MISMATCH', 'multi-label rows have no column', { place: `${name}[0]` });
  const data = new Float64Array(n * width);
  for (let i = 0; i < n; i++) {
    const row = rows[i];
    if (row.length !== width) {
      throw new MtlError('DATA_SHAPE_MISMATCH', `row has ${row.length} labels but row 0 has ${width}`, {
        place: `${name}[${i}]`,
      });
    }
    for (let l = 0; l < width; l++)
      data[i * width + l] = checkNumber(row[l], `${name}[${i}][${l}]`, allowNaN);
  }
  return { data, n, width, multiLabel: true };
}

/**
 * Flattens probs and checks them against the labels' shape. `inUnitRange`: every value must be a
 * probability (1e-6 of rounding outside [0, 1] is clamped, as float32 softmax outputs need).
 */
export function readProbs(x: Probs, labels: LabelTable, inUnitRange: boolean): ProbTable {
  if (!isRow(x))
    throw new MtlError('INVALID_ARGUMENT', `expected an array, got ${typeof x}`, { place: 'probs' });
  const n = labels.n;
  if (x.length !== n) {
    throw new MtlError('DATA_LENGTH_MISMATCH', `probs have ${x.length} rows but golds have ${n}`, {
      place: 'probs',
    });
  }
  const flat = n > 0 && !isRow(x[0]);
  const rows = flat ? undefined : checkRows(x, 'probs');
  const width = flat || n === 0 ? 1 : rows![0].length;
  if (labels.multiLabel && width !== labels.width) {
    throw new MtlError(
      'DATA_SHAPE_MISMATCH',
      `multi-label probs need one column per label (${labels.width}), got ${width}`,
      { place: 'probs' },
    );
  }
  if (width === 0)
    throw new MtlError('DATA_SHAPE_MISMATCH', 'probs rows have no column', { place: 'probs[0]' });
  const read = (v: unknown, place: string): number => {
    const p = checkNumber(v, place);
    if (!inUnitRange) return p;
    if (p < -1e-6 || p > 1 + 1e-6) {
      throw new MtlError('DATA_INVALID', `${p} is not a probability in [0, 1]`, { place });
    }
    return Math.min(1, Math.max(0, p));
  };
  // One column in a single-label task is P(class 1) of a binary task.
  const expand = !labels.multiLabel && width === 1;
  const classes = expand ? 2 : width;
  const data = new Float64Array(n * classes);
  for (let i = 0; i < n; i++) {
    if (flat) {
      const p = read(x[i], `probs[${i}]`);
      data[i * 2] = 1 - p;
      data[i * 2 + 1] = p;
      continue;
    }
    const row = rows![i];
    if (row.length !== width) {
      throw new MtlError('DATA_SHAPE_MISMATCH', `row has ${row.length} columns but row 0 has ${width}`, {
        place: `probs[${i}]`,
      });
    }
    if (expand) {
      const p = read(row[0], `probs[${i}][0]`);
      data[i * 2] = 1 - p;
      data[i * 2 + 1] = p;
    } else {
      for (let c = 0; c < width; c++) data[i * classes + c] = read(row[c], `probs[${i}][${c}]`);
    }
  }
  return { data, classes };
}

/** Copies the rows listed in `keep` of a row-major table of `width` columns. */
export function takeRows(data: Float64Array, width: number, keep: Uint32Array): Float64Array {
  const out = new Float64Array(keep.length * width);
  for (let j = 0; j < keep.length; j++) {
    const i = keep[j];
    for (let c = 0; c < width; c++) out[j * width + c] = data[i * width + c];
  }
  return out;
}
