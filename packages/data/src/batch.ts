import type * as tf from '@tensorflow/tfjs';

/**
 * One batch of rows from one dataset. Inputs are keyed by field, labels by label name (by
 * default a task reads the label named like the task). The consumer owns the tensors: dispose
 * them with {@link disposeBatch} when done.
 */
export interface Batch {
  /** Name of the dataset the rows come from (e.g. `circleDataset`). */
  dataset: string;
  /** Split of that dataset (e.g. `train`, `valid`, `test`), matched exactly, never by substring. */
  split: string;
  /** Inputs by field: `[B, ...rowShape]` float32. A padded variable-length field `f` also has `f_mask` `[B, maxLen]` (1 = real, 0 = pad). */
  X: Record<string, tf.Tensor>;
  /**
   * Labels by name: class ids `[B]` int32 (the abstain label -1 marks rows without a label),
   * soft labels `[B, C]` float32, multi-label `[B, L]` float32 0/1, or regression targets `[B]`/`[B, k]` float32.
   */
  Y: Record<string, tf.Tensor>;
  /** Number of rows. */
  size: number;
  /** Row indices in the dataset, in batch order. */
  indices: Int32Array;
}

/**
 * What a batch scheduler yields for one training step: a single batch (`shuffled`, `sequential`,
 * `roundRobin`) or one batch of every loader (`mixed`).
 */
export type StepBatches = Batch[];

/**
 * Disposes every tensor of a batch (or of each batch of a step).
 * @example
 * for (const batch of loader) { use(batch); disposeBatch(batch); }
 */
export function disposeBatch(batch: Batch | StepBatches): void {
  const all = Array.isArray(batch) ? batch : [batch];
  for (const b of all) {
    for (const t of Object.values(b.X)) t.dispose();
    for (const t of Object.values(b.Y)) t.dispose();
  }
}
