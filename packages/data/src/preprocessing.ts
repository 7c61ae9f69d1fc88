import { MtlError } from '@mtl/core';
import {
  DictDataset,
  type DictDatasetOptions,
  type FieldInput,
  type LabelInput,
  type LabelKind,
} from './dict-dataset.js';

/**
 * How a numeric field or a regression label is scaled: `standard` (zero mean, unit variance),
 * `minmax` (into [0, 1]) or `none`.
 * @example
 * SCALE_METHODS.includes('minmax'); // true
 */
export const SCALE_METHODS = ['standard', 'minmax', 'none'] as const;
/**
 * One of {@link SCALE_METHODS}.
 * @example
 * const method: ScaleMethod = 'standard';
 */
export type ScaleMethod = (typeof SCALE_METHODS)[number];

/**
 * A fitted scaler: per value of a row, `x' = (x - offset) / scale`. Plain JSON.
 * @example
 * const s: FittedScaler = { method: 'standard', offset: [2], scale: [0.5] }; // 3 -> 2
 */
export interface FittedScaler {
  method: ScaleMethod;
  offset: number[];
  scale: number[];
}

/**
 * Fits a scaler on flat rows (`rowSize` values per row), one offset and scale per position in the
 * row. NaN cells (abstained regression targets) are ignored. A constant position (or one with no
 * value) gets scale 1, so it is shifted but never divided by zero. `standard` uses the population
 * standard deviation (as scikit-learn's StandardScaler).
 * @example
 * fitScaler([1, 2, 3, 4], 1, 'standard'); // {method: 'standard', offset: [2.5], scale: [1.118...]}
 */
export function fitScaler(values: ArrayLike<number>, rowSize: number, method: ScaleMethod): FittedScaler {
  if (!(SCALE_METHODS as readonly string[]).includes(method)) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `unknown scaling "${method}" (methods: ${SCALE_METHODS.join(', ')})`,
      {
        place: 'fitScaler',
      },
    );
  }
  const offset = new Array<number>(rowSize).fill(0);
  const scale = new Array<number>(rowSize).fill(1);
  if (method === 'none') return { method, offset, scale };
  for (let j = 0; j < rowSize; j++) {
    let n = 0;
    let mean = 0;
    let m2 = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = j; i < values.length; i += rowSize) {
      const v = values[i]!;
      if (Number.isNaN(v)) continue;
      // Welford: stable for large offsets, one pass.
      n++;
      const d = v - mean;
      mean += d / n;
      m2 += d * (v - mean);
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (n === 0) continue;
    if (method === 'standard') {
      offset[j] = mean;
      const std = Math.sqrt(m2 / n);
      scale[j] = std > 0 ? std : 1;
    } else {
      offset[j] = min;
      scale[j] = max > min ? max - min : 1;
    }
  }
  return { method, offset, scale };
}

/**
 * Scales flat rows with a fitted scaler (NaN stays NaN).
 * @example
 * applyScaler([3, 4], { method: 'standard', offset: [2], scale: [0.5] }); // Float32Array [2, 4]
 */
export function applyScaler(values: ArrayLike<number>, scaler: FittedScaler): Float32Array {
  const k = scaler.offset.length;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++)
    out[i] = (values[i]! - scaler.offset[i % k]!) / scaler.scale[i % k]!;
  return out;
}

/**
 * Undoes {@link applyScaler}: back to the original units.
 * @example
 * invertScaler([2, 4], { method: 'standard', offset: [2], scale: [0.5] }); // Float32Array [3, 4]
 */
export function invertScaler(values: ArrayLike<number>, scaler: FittedScaler): Float32Array {
  const k = scaler.offset.length;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i]! * scaler.scale[i % k]! + scaler.offset[i % k]!;
  return out;
}

/**
 * The text fields' tokenizer: optionally lower-cased, split on runs of whitespace.
 * @example
 * tokenize('  Hello  big\tWorld '); // ['hello', 'big', 'world']
 */
export function tokenize(text: string, options: { lowercase?: boolean } = {}): string[] {
  const t = options.lowercase === false ? text : text.toLowerCase();
  return t.split(/\s+/).filter((s) => s.length > 0);
}

/**
 * Options of a vocabulary fit: strings seen fewer than `minCount` times on the train split
 * (default 1) are left out, and at most `maxSize` of the most frequent are kept.
 * @example
 * const options: VocabularyOptions = { minCount: 2, maxSize: 10_000 };
 */
export interface VocabularyOptions {
  minCount?: number;
  maxSize?: number;
}

/**
 * A fitted categorical vocabulary: id 0 = unknown (OOV), `tokens[i]` = id `i + 1`.
 * @example
 * const v: FittedCategorical = { kind: 'categorical', tokens: ['red', 'blue'] }; // red -> 1, green -> 0
 */
export interface FittedCategorical {
  kind: 'categorical';
  tokens: string[];
}

/**
 * A fitted text field: id 0 = padding, 1 = unknown (OOV), `tokens[i]` = id `i + 2`; rows are
 * truncated or padded to `maxLength` ids, with a `<field>_mask` (1 = token, 0 = padding).
 * @example
 * const t: FittedText = { kind: 'text', tokens: ['good', 'bad'], maxLength: 8 };
 */
export interface FittedText {
  kind: 'text';
  tokens: string[];
  maxLength: number;
}

/**
 * Reserved ids of categorical and text fields.
 * @example
 * VOCABULARY_IDS.text.padding; // 0
 */
export const VOCABULARY_IDS = {
  categorical: { oov: 0, first: 1 },
  text: { padding: 0, oov: 1, first: 2 },
} as const;

/**
 * A fitted numeric field: a {@link FittedScaler} tagged `scale`.
 * @example
 * const f: FittedNumeric = { kind: 'scale', method: 'minmax', offset: [0], scale: [10] };
 */
export type FittedNumeric = { kind: 'scale' } & FittedScaler;

/**
 * What a field became after fitting.
 * @example
 * const f: FittedField = { kind: 'categorical', tokens: ['a'] };
 */
export type FittedField = FittedNumeric | FittedCategorical | FittedText;

/**
 * How to preprocess one field: a {@link ScaleMethod} for a numeric field, or vocabulary options for
 * a categorical / text field (a field read with a dictionary).
 * @example
 * const spec: FieldPreprocessing = { kind: 'text', maxLength: 32, minCount: 2 };
 */
export type FieldPreprocessing =
  | ScaleMethod
  | ({ kind: 'categorical' } & VocabularyOptions)
  | ({ kind: 'text'; maxLength?: number } & VocabularyOptions);

/**
 * What {@link fitPreprocessing} fits: per field and per regression label.
 * @example
 * const spec: PreprocessingSpec = { fields: { x: 'standard', colour: { kind: 'categorical' } }, labels: { price: 'standard' } };
 */
export interface PreprocessingSpec {
  fields?: Record<string, FieldPreprocessing>;
  labels?: Record<string, ScaleMethod>;
}

/**
 * Fitted preprocessing of one dataset: plain JSON, saved next to a model and applied to any
 * split or new file with {@link applyPreprocessing}.
 * @example
 * const saved = JSON.stringify(fitPreprocessing(train, spec));
 */
export interface FittedPreprocessing {
  format: 'mtl-preprocessing';
  version: 1;
  fields: Record<string, FittedField>;
  labels: Record<string, FittedScaler>;
}

/**
 * The number of ids a fitted categorical or text field uses (an `embedding`'s `vocabSize`).
 * @example
 * vocabularySize({ kind: 'text', tokens: ['a', 'b'], maxLength: 4 }); // 4 (padding, OOV, a, b)
 */
export function vocabularySize(field: FittedCategorical | FittedText): number {
  return field.tokens.length + VOCABULARY_IDS[field.kind].first;
}

function positiveIntOption(v: number | undefined, what: string, place: string): number | undefined {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) {
    throw new MtlError('INVALID_ARGUMENT', `${what} must be a positive integer, got ${v}`, { place });
  }
  return v;
}

/** The strings of a field's rows, by id: its dictionary, or the numbers as text (integer-coded columns). */
function stringsOf(ds: DictDataset, field: string): (id: number) => string {
  const dict = ds.fieldDictionary(field);
  return dict === undefined ? (id) => String(id) : (id) => dict[id]!;
}

function fitVocabulary(
  ds: DictDataset,
  field: string,
  options: VocabularyOptions,
  place: string,
): { tokens: string[]; longest: number } {
  const minCount = positiveIntOption(options.minCount, 'minCount', place) ?? 1;
  const maxSize = positiveIntOption(options.maxSize, 'maxSize', place);
  const str = stringsOf(ds, field);
  const values = ds.fieldValues(field);
  const counts = new Map<string, number>();
  for (let i = 0; i < values.length; i++) {
    const s = str(values[i]!);
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const offsets = ds.fieldOffsets(field);
  let longest = 0;
  if (offsets !== null) {
    for (let r = 0; r < ds.length; r++) longest = Math.max(longest, offsets[r + 1]! - offsets[r]!);
  }
  // Most frequent first, ties by code point: the ids do not depend on the file's row order.
  const tokens = [...counts.entries()]
    .filter(([, c]) => c >= minCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([s]) => s);
  return { tokens: maxSize === undefined ? tokens : tokens.slice(0, maxSize), longest };
}

/**
 * Fits a dataset's preprocessing on its rows (pass the train split only): a scaler per numeric
 * field and regression label named in `spec`, and a vocabulary for every categorical or text field
 * (a field with a dictionary, or one named with `{kind: 'categorical' | 'text'}`). Unknown names,
 * scaling a class label or a categorical field, and ragged numeric fields are errors.
 * @example
 * const fitted = fitPreprocessing(splits.train, { fields: { x: 'standard' }, labels: { y: 'standard' } });
 * const test = applyPreprocessing(splits.test, fitted);
 */
export function fitPreprocessing(train: DictDataset, spec: PreprocessingSpec = {}): FittedPreprocessing {
  const place = `fitPreprocessing ${train.name}/${train.split}`;
  const fields: Record<string, FittedField> = {};
  for (const f of Object.keys(spec.fields ?? {})) {
    if (!train.hasField(f)) {
      throw new MtlError(
        'UNKNOWN_FIELD',
        `no field "${f}" to preprocess (fields: ${train.fieldNames.join(', ')})`,
        {
          place: `${place} fields.${f}`,
        },
      );
    }
  }
  for (const f of train.fieldNames) {
    const s = spec.fields?.[f];
    const fplace = `${place} fields.${f}`;
    const info = train.fieldInfo(f);
    const hasDict = train.fieldDictionary(f) !== undefined;
    if (hasDict && typeof s === 'string' && s !== 'none') {
      throw new MtlError('INVALID_ARGUMENT', `field "${f}" is categorical or text: it cannot be scaled`, {
        place: fplace,
      });
    }
    const kind =
      typeof s === 'object' && s !== null
        ? s.kind
        : hasDict
          ? info.ragged
            ? 'text'
            : 'categorical'
          : undefined;
    if (kind === 'categorical' || kind === 'text') {
      const expected = info.ragged ? 'text' : 'categorical';
      if (kind !== expected || info.dtype !== 'int32' || (!info.ragged && info.rowShape.length !== 0)) {
        throw new MtlError(
          'DATA_INVALID',
          `field "${f}" is not a ${kind} field (it holds ${info.ragged ? 'ragged' : `[${info.rowShape}]`} ${info.dtype} rows)`,
          { place: fplace },
        );
      }
      const options = (typeof s === 'object' ? s : {}) as VocabularyOptions & { maxLength?: number };
      const { tokens, longest } = fitVocabulary(train, f, options, fplace);
      if (kind === 'categorical') {
        fields[f] = { kind, tokens };
      } else {
        const maxLength = positiveIntOption(options.maxLength, 'maxLength', fplace) ?? Math.max(longest, 1);
        fields[f] = { kind, tokens, maxLength };
      }
      continue;
    }
    if (s === undefined || s === 'none') continue;
    if (info.ragged) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `field "${f}" has rows of different lengths: it cannot be scaled`,
        {
          place: fplace,
        },
      );
    }
    const rowSize = info.rowShape.reduce((a, b) => a * b, 1);
    fields[f] = { kind: 'scale', ...fitScaler(train.fieldValues(f), rowSize, s as ScaleMethod) };
  }
  const labels: Record<string, FittedScaler> = {};
  for (const [l, method] of Object.entries(spec.labels ?? {})) {
    const lplace = `${place} labels.${l}`;
    if (!train.hasLabel(l)) {
      const known = train.labelNames.length === 0 ? '(none)' : train.labelNames.join(', ');
      throw new MtlError('UNKNOWN_FIELD', `no label "${l}" to scale (labels: ${known})`, { place: lplace });
    }
    const info = train.labelInfo(l);
    if (info.kind !== 'regression') {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `label "${l}" is ${info.kind}: only regression labels are scaled`,
        {
          place: lplace,
        },
      );
    }
    if (method === 'none') continue;
    const rowSize = info.rowShape.reduce((a, b) => a * b, 1);
    labels[l] = fitScaler(train.labelValues(l), rowSize, method);
  }
  return { format: 'mtl-preprocessing', version: 1, fields, labels };
}

function encodeCategorical(ds: DictDataset, f: string, fitted: FittedCategorical): Int32Array {
  const ids = new Map(fitted.tokens.map((t, i) => [t, i + VOCABULARY_IDS.categorical.first]));
  const str = stringsOf(ds, f);
  const values = ds.fieldValues(f);
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = ids.get(str(values[i]!)) ?? VOCABULARY_IDS.categorical.oov;
  return out;
}

function encodeText(ds: DictDataset, f: string, fitted: FittedText): { ids: Int32Array; mask: Float32Array } {
  const { first, oov, padding } = VOCABULARY_IDS.text;
  const vocab = new Map(fitted.tokens.map((t, i) => [t, i + first]));
  const str = stringsOf(ds, f);
  const values = ds.fieldValues(f);
  const offsets = ds.fieldOffsets(f)!;
  const L = fitted.maxLength;
  const ids = new Int32Array(ds.length * L).fill(padding);
  const mask = new Float32Array(ds.length * L);
  for (let r = 0; r < ds.length; r++) {
    const start = offsets[r]!;
    const n = Math.min(offsets[r + 1]! - start, L);
    for (let k = 0; k < n; k++) {
      ids[r * L + k] = vocab.get(str(values[start + k]!)) ?? oov;
      mask[r * L + k] = 1;
    }
  }
  return { ids, mask };
}

/**
 * Applies fitted preprocessing to any dataset with the same fields (a split, or a file to predict
 * on; labels may be missing): numeric fields and regression labels scaled, categorical fields
 * become int32 ids (unknown strings -> the OOV id), text fields `[maxLength]` int32 ids plus a
 * `<field>_mask`. Returns a new dataset; the input is not changed.
 * @example
 * const valid = applyPreprocessing(splits.valid, fitPreprocessing(splits.train, { fields: { x: 'standard' } }));
 */
export function applyPreprocessing(ds: DictDataset, fitted: FittedPreprocessing): DictDataset {
  const place = `applyPreprocessing ${ds.name}/${ds.split}`;
  const n = ds.length;
  const X: Record<string, FieldInput> = {};
  const dictionaries: Record<string, readonly string[]> = {};
  for (const f of ds.fieldNames) {
    const t = fitted.fields[f];
    const info = ds.fieldInfo(f);
    if (t === undefined) {
      const offsets = ds.fieldOffsets(f);
      X[f] =
        offsets === null
          ? { values: ds.fieldValues(f), shape: [n, ...info.rowShape] }
          : { values: ds.fieldValues(f), offsets };
      const dict = ds.fieldDictionary(f);
      if (dict !== undefined) dictionaries[f] = dict;
      continue;
    }
    const fplace = `${place} field "${f}"`;
    if (t.kind === 'scale') {
      const rowSize = info.rowShape.reduce((a, b) => a * b, 1);
      if (info.ragged || rowSize !== t.offset.length) {
        throw new MtlError(
          'DATA_SHAPE_MISMATCH',
          `field "${f}" has rows of shape [${info.rowShape}] but its scaler was fitted on ${t.offset.length} values per row`,
          { place: fplace },
        );
      }
      X[f] = { values: applyScaler(ds.fieldValues(f), t), shape: [n, ...info.rowShape] };
    } else if (t.kind === 'categorical') {
      if (info.ragged || info.rowShape.length !== 0) {
        throw new MtlError('DATA_SHAPE_MISMATCH', `field "${f}" is categorical: it needs one value per row`, {
          place: fplace,
        });
      }
      X[f] = { values: encodeCategorical(ds, f, t), shape: [n] };
    } else {
      if (!info.ragged) {
        throw new MtlError('DATA_SHAPE_MISMATCH', `field "${f}" is text: it needs token rows`, {
          place: fplace,
        });
      }
      if (ds.hasField(`${f}_mask`)) {
        throw new MtlError('DUPLICATE_NAME', `field "${f}_mask" clashes with the mask of text field "${f}"`, {
          place: fplace,
        });
      }
      const { ids, mask } = encodeText(ds, f, t);
      X[f] = { values: ids, shape: [n, t.maxLength] };
      X[`${f}_mask`] = { values: mask, shape: [n, t.maxLength] };
    }
  }
  const Y: Record<string, LabelInput> = {};
  const labelKinds: Record<string, LabelKind> = {};
  const numClasses: Record<string, number> = {};
  for (const l of ds.labelNames) {
    const info = ds.labelInfo(l);
    const t = fitted.labels[l];
    const values = ds.labelValues(l);
    Y[l] = { values: t === undefined ? values : applyScaler(values, t), shape: [n, ...info.rowShape] };
    labelKinds[l] = info.kind;
    if (info.numClasses !== undefined) numClasses[l] = info.numClasses;
  }
  const options: DictDatasetOptions = {
    labelKinds,
    numClasses,
    padValue: ds.padValue,
    copy: false,
    dictionaries,
  };
  return new DictDataset(ds.name, ds.split, X, Y, options);
}

/**
 * Regression values back in the label's original units (identity when the label is not scaled).
 * @example
 * const price = unscaleLabel(fitted, 'price', predictedValues);
 */
export function unscaleLabel(
  fitted: FittedPreprocessing,
  label: string,
  values: ArrayLike<number>,
): Float32Array {
  const t = fitted.labels[label];
  return t === undefined ? Float32Array.from(values) : invertScaler(values, t);
}

function isNumberList(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));
}

function checkScaler(v: unknown): boolean {
  const s = v as FittedScaler;
  return (
    typeof s === 'object' &&
    s !== null &&
    (SCALE_METHODS as readonly string[]).includes(s.method) &&
    isNumberList(s.offset) &&
    isNumberList(s.scale) &&
    s.offset.length === s.scale.length &&
    s.scale.every((x) => x !== 0)
  );
}

function checkField(v: unknown): boolean {
  const f = v as FittedField;
  if (typeof f !== 'object' || f === null) return false;
  if (f.kind === 'scale') return checkScaler(f);
  const tokens = Array.isArray(f.tokens) && f.tokens.every((t) => typeof t === 'string');
  if (f.kind === 'categorical') return tokens;
  return f.kind === 'text' && tokens && Number.isInteger(f.maxLength) && f.maxLength >= 1;
}

/**
 * Checks that parsed JSON is {@link FittedPreprocessing} (e.g. read back from a model folder).
 * @example
 * const fitted = checkFittedPreprocessing(JSON.parse(text), 'model/preprocessing.json');
 */
export function checkFittedPreprocessing(json: unknown, place: string): FittedPreprocessing {
  const p = json as FittedPreprocessing;
  const ok =
    typeof p === 'object' &&
    p !== null &&
    p.format === 'mtl-preprocessing' &&
    p.version === 1 &&
    typeof p.fields === 'object' &&
    p.fields !== null &&
    typeof p.labels === 'object' &&
    p.labels !== null &&
    Object.values(p.fields).every(checkField) &&
    Object.values(p.labels).every(checkScaler);
  if (!ok) {
    throw new MtlError(
      'CHECKPOINT_CORRUPT',
      'not fitted preprocessing (format "mtl-preprocessing", version 1)',
      {
        place,
      },
    );
  }
  return p;
}
