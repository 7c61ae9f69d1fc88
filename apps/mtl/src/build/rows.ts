import type { Batch, DictDataset } from '@mtl/data';

/** Every row of a dataset as one batch (evaluation and prediction of the VMTL and VAE models). */
export function allRows(ds: DictDataset): Batch {
  return ds.collate(Int32Array.from({ length: ds.length }, (_, i) => i));
}
