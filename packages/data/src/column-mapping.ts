import type { LabelKind } from './dict-dataset.js';

/**
 * How a label is read from a file. One column: class ids by default (empty cell / JSON null =
 * abstain, -1), or class names through `classes`, or numbers with `kind: 'regression'`. Several
 * columns (or one JSONL key holding an array): a row of numbers (`soft`, `multilabel` or
 * `regression`; inferred when `kind` is left out).
 * @example
 * const colour: LabelColumnSpec = { column: 'colour', classes: ['red', 'green', 'blue'] };
 * const probs: LabelColumnSpec = { column: ['p0', 'p1'], kind: 'soft' };
 */
export interface LabelColumnSpec {
  column: string | readonly string[];
  kind?: LabelKind;
  /** Class names: a cell holding `classes[i]` becomes class id `i`. */
  classes?: readonly string[];
  /** Class count for range checks (default: `classes.length`). */
  numClasses?: number;
}

/**
 * The kinds of input field a file can hold: `number` (numeric cells), `categorical` (one column of
 * strings, stored as int32 ids with a dictionary) or `text` (one column, lower-cased and split on
 * whitespace into ragged int32 token ids with a dictionary).
 * @example
 * FIELD_KINDS.includes('text'); // true
 */
export const FIELD_KINDS = ['number', 'categorical', 'text'] as const;
/**
 * One of {@link FIELD_KINDS}.
 * @example
 * const kind: FieldKind = 'categorical';
 */
export type FieldKind = (typeof FIELD_KINDS)[number];

/**
 * How a field is read, in full: columns by name (ranges such as `px0..px63` allowed), or every
 * column whose name starts with `prefix` (in file order), and the field's kind.
 * @example
 * const pixels: FieldColumnSpec = { prefix: 'px' };
 * const review: FieldColumnSpec = { column: 'review', kind: 'text' };
 */
export interface FieldColumnSpec {
  /** One column (scalar rows) or a list of columns (vector rows); a range `a0..a9` is a list. */
  column?: string | readonly string[];
  /** Every column (CSV header) or key (first JSONL line) starting with this, in file order. */
  prefix?: string;
  /** Default `number`. */
  kind?: FieldKind;
  /** Text fields: lower-case before tokenizing (default true). */
  lowercase?: boolean;
}

/**
 * A field's columns: one name (scalar rows; a range `px0..px63` gives vector rows), a list of names
 * and ranges (vector rows), or a {@link FieldColumnSpec}.
 * @example
 * const columns: FieldColumns = ['x', 'px0..px63'];
 */
export type FieldColumns = string | readonly string[] | FieldColumnSpec;

/**
 * Which columns (CSV) or keys (JSONL) make which fields and labels. A field given one column name
 * has scalar rows (`[B]` batches); a list of columns makes a vector field (`[B, k]`). A name of the
 * form `px0..px63` (or `px0..63`; `px00..px63` keeps the zero padding) is the range of columns
 * `px0`, `px1`, ..., `px63`, unless a column has that literal name; `{prefix: 'px'}` takes every
 * column starting with `px` in file order. In JSONL a single key may hold arrays: equal lengths make
 * a vector field, different lengths a ragged one. Categorical and text fields: see {@link FieldKind}.
 * @example
 * const mapping: ColumnMapping = {
 *   fields: { circle_data: ['x1', 'x2'] },
 *   labels: { circle_task: 'label', colour: { column: 'colour', classes: ['red', 'green'] } },
 * };
 */
export interface ColumnMapping {
  fields: Readonly<Record<string, FieldColumns>>;
  labels?: Readonly<Record<string, string | LabelColumnSpec>>;
}

/**
 * Options of {@link readCsv} and {@link readJsonl}: the mapping plus the dataset's identity.
 * @example
 * const options: ReadTableOptions = { name: 'circleDataset', split: 'valid', fields: { circle_data: ['x1', 'x2'] } };
 */
export interface ReadTableOptions extends ColumnMapping {
  /** Dataset name (default: the file name without its extension). */
  name?: string;
  /** Split name (default `train`). */
  split?: string;
  /** Pad value of ragged fields (default 0). */
  padValue?: number;
}
