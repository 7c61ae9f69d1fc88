import type { Batch, DictDataset, FittedPreprocessing } from '@mtl/data';

/**
 * One dataset of a source, by split (`train`, `valid`, `test`, ...).
 * @example
 * const splits: SplitDatasets = { train: circle.train!, valid: circle.valid! };
 */
export type SplitDatasets = Record<string, DictDataset>;

/**
 * What a task reads: its datasets by split, input fields and label. The run adapters
 * ({@link multitaskRun}, @mtl/vae's `buildVaeRun`) take one per task; tasks reading the same dataset
 * objects share their batches.
 * @example
 * const data: TaskData = {
 *   source: 'circle', datasetName: 'circleDataset', splits: { train: circle.train!, test: circle.test! },
 *   inputs: ['circle_data'], label: 'circle_task',
 * };
 */
export interface TaskData {
  /** The source's name, for messages. */
  source: string;
  datasetName: string;
  splits: SplitDatasets;
  inputs: string[];
  label: string;
  /**
   * The preprocessing fitted on the train split (@mtl/data's `fitPreprocessing`) and already
   * applied to every split. A regression label it scales is scored and predicted in its original
   * units (the model learns the scaled targets); an `embedding` reading a categorical or text
   * field it encodes is checked against the fitted vocabulary.
   */
  preprocessing?: FittedPreprocessing | undefined;
  /**
   * Row masks of named slices by split (`split -> slice -> mask over the dataset's rows`): the task
   * is scored on each slice too (`task/dataset/split/slice:<name>:<metric>`). See `splitSliceMasks`.
   */
  slices?: Readonly<Record<string, Readonly<Record<string, Uint8Array>>>> | undefined;
}

/**
 * Every row of a dataset as one batch (evaluation and prediction of the VMTL and VAE models).
 * @example
 * const batch = allRows(circle.test!);
 */
export function allRows(ds: DictDataset): Batch {
  return ds.collate(Int32Array.from({ length: ds.length }, (_, i) => i));
}

/**
 * The first `size` rows of a dataset as one batch: what a preflight check runs on.
 * @example
 * const batch = firstRows(circle.train!, 32);
 */
export function firstRows(ds: DictDataset, size: number): Batch {
  return ds.collate(Int32Array.from({ length: Math.min(size, ds.length) }, (_, i) => i));
}

/**
 * `field [rowShape]` of each input, for messages about an input that does not fit.
 * @example
 * describeInputs(circle.train!, ['circle_data']); // 'circle_data [2]'
 */
export function describeInputs(ds: DictDataset, fields: readonly string[]): string {
  return fields.map((f) => `${f} ${JSON.stringify(ds.fieldInfo(f).rowShape)}`).join(', ');
}
