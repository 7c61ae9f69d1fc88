import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MtlError } from '@mtl/core';
import { writeFileAtomic } from '@mtl/core/node';
import { type LayersInputSpec, MultitaskModel, toLayersModel } from '@mtl/tasks';
import { readLayersModelFiles, removeLayersModel, writeLayersModel } from '../build/layers-files.js';
import { PREPROCESSING_FILE } from '../build/preprocess.js';
import { RUN_FILES } from '../run-dir.js';
import { openRun } from './evaluate.js';

/**
 * Export formats of `mtl export`.
 * @example
 * EXPORT_FORMATS.includes('tfjs-layers'); // true
 */
export const EXPORT_FORMATS = ['tfjs-layers'] as const;

/**
 * `mtl export RUN_DIR --format tfjs-layers --out DIR`: the run's multitask model as a standard
 * tfjs LayersModel (`DIR/model.json` + `DIR/weights.bin`), one input per field and one output per
 * task (probabilities, or values for regression, as `mtl predict` writes them). The inputs are the
 * fields as the model reads them: a run with fitted scaling or vocabularies also gets
 * `DIR/preprocessing.json` (the run's own), which a caller applies first. Returns the task names.
 */
export async function exportRun(args: {
  runDir: string;
  format: string;
  out: string;
  backend?: string | undefined;
}): Promise<string[]> {
  if (!(EXPORT_FORMATS as readonly string[]).includes(args.format)) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `unknown format "${args.format}" (formats: ${EXPORT_FORMATS.join(', ')})`,
      { place: '--format' },
    );
  }
  const out = resolve(args.out);
  if (existsSync(join(out, 'model.json'))) {
    throw new MtlError('INVALID_ARGUMENT', `${out} already holds a model.json; choose another --out`, {
      place: '--out',
    });
  }
  const opened = await openRun(args.runDir, args.backend);
  try {
    const model = opened.run.trainable;
    if (!(model instanceof MultitaskModel)) {
      throw new MtlError(
        'NOT_IMPLEMENTED',
        `only multitask models export to tfjs-layers; this run is a ${opened.run.kind} model`,
        { place: 'mtl export' },
      );
    }
    const inputs: Record<string, LayersInputSpec> = {};
    for (const data of Object.values(opened.taskData)) {
      const train = data.splits.train!;
      for (const field of train.fieldNames) {
        const info = train.fieldInfo(field);
        const dtype = info.dtype === 'int32' ? 'int32' : 'float32';
        // A variable-length field is padded per batch: its length is left open, with its mask.
        inputs[field] = { shape: info.ragged ? [null] : info.rowShape, dtype };
        if (info.ragged) inputs[`${field}_mask`] = { shape: [null], dtype: 'float32' };
      }
    }
    const exported = toLayersModel(model, { inputs });
    try {
      await writeLayersModel(exported, out);
      const fitted = join(opened.runDir, RUN_FILES.model, PREPROCESSING_FILE);
      if (existsSync(fitted)) await writeFileAtomic(join(out, PREPROCESSING_FILE), readFileSync(fitted));
      // What was written must load as plain tfjs reads it.
      readLayersModelFiles(join(out, 'model.json'));
    } catch (e) {
      removeLayersModel(out);
      throw e;
    } finally {
      exported.dispose();
    }
    return model.taskNames;
  } finally {
    opened.run.dispose();
  }
}
