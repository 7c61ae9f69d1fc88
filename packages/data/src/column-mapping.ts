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
 * Which columns (CSV) or keys (JSONL) make which fields and labels. A field given one column name
 * has scalar rows (`[B]` batches); a list of columns makes a vector field (`[B, k]`). In JSONL a
 * single key may hold arrays: equal lengths make a vector field, different lengths a ragged one.
 * @example
 * const mapping: ColumnMapping = {
 *   fields: { circle_data: ['x1', 'x2'] },
 *   labels: { circle_task: 'label', colour: { column: 'colour', classes: ['red', 'green'] } },
 * };
 */
export interface ColumnMapping {
  fields: Readonly<Record<string, string | readonly string[]>>;
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
