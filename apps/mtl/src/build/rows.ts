import type { Batch, DictDataset } from '@mtl/data';

/** Every row of a dataset as one batch (evaluation and prediction of the VMTL and VAE models). */
export function allRows(ds: DictDataset): Batch {
  return ds.collate(Int32Array.from({ length: ds.length }, (_, i) => i));
}

/** The first `size` rows of a dataset as one batch: what a preflight check runs on. */
export function firstRows(ds: DictDataset, size: number): Batch {
  return ds.collate(Int32Array.from({ length: Math.min(size, ds.length) }, (_, i) => i));
}

/** `field [rowShape]` of each input, for messages about an input that does not fit. */
export function describeInputs(ds: DictDataset, fields: readonly string[]): string {
  return fields.map((f) => `${f} ${JSON.stringify(ds.fieldInfo(f).rowShape)}`).join(', ');
}
