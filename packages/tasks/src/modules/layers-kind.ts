import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { defineModuleKind } from '../module-kind.js';
import { parseModuleOptions } from '../module-options.js';
import { LayersModule } from './layers-module.js';

/**
 * Options of the `layers` module kind.
 * @example
 * const options: LayersKindOptions = { path: 'encoder/model.json', trainable: false };
 */
export type LayersKindOptions = z.input<typeof layersKindSchema>;

/**
 * Options schema of the `layers` module kind.
 * @example
 * layersKindSchema.parse({ path: 'encoder/model.json' });
 */
export const layersKindSchema = z.strictObject({
  /** The tfjs LayersModel's `model.json`: a path or URL, relative to the config file. */
  path: z
    .string()
    .min(1)
    .describe("The tfjs LayersModel's `model.json` (path or URL), relative to the config file."),
  /** false: the model's weights stay as loaded (a frozen encoder); default true. */
  trainable: z
    .boolean()
    .optional()
    .describe('false: the loaded weights stay as they are (a frozen encoder); default true.'),
});

/**
 * The `layers` module kind: a tfjs LayersModel (e.g. one `mtl export` wrote, or any `tf.layers`
 * model saved by tfjs) as a module, trainable or frozen. Loading is asynchronous, so the kind
 * cannot be made by `moduleFromConfig`: {@link loadLayersKind} makes it. Once built it is a
 * {@link LayersModule} (saved as `tfLayers`: a saved model needs no model.json to load).
 * @example
 * const encoder = await loadLayersKind({ path: 'https://example.org/encoder/model.json', trainable: false });
 */
export const layersKind = defineModuleKind({
  type: 'layers',
  schema: layersKindSchema,
  description:
    'A tfjs LayersModel loaded from its model.json (`tf.loadLayersModel`), trainable or frozen: a pretrained encoder under the task heads.',
  create(options) {
    const { path } = parseModuleOptions(layersKindSchema, options, 'layers');
    throw new MtlError(
      'NOT_IMPLEMENTED',
      `a layers module loads ${path} asynchronously: make it with loadLayersKind (the mtl app does)`,
      { place: 'layers' },
    );
  },
});

/**
 * Where {@link loadLayersKind} gets the model from: a URL or `tf.io` handler for
 * `tf.loadLayersModel`; default the path itself (resolved against `base` when given).
 * @example
 * const source: LayersKindSource = { base: 'https://example.org/configs/run.yaml' };
 */
export interface LayersKindSource {
  /** URL of the config file; a relative `path` is resolved against it. */
  base?: string;
  /** Loads the model.json another way (e.g. from disk in Node): its result goes to tf.loadLayersModel. */
  handler?: (path: string) => tf.io.IOHandler;
  /** Names the option in errors (e.g. `modules.encoder.path`); default `layers.path`. */
  place?: string;
}

/**
 * Loads the `layers` kind's model and wraps it as a module ({@link LayersModule}); `trainable:
 * false` marks every weight untrainable, so the module's variables stay out of the optimiser's
 * (the model's `trainableVariables()` leaves them out). A file that is not a LayersModel is
 * DATA_INVALID naming `place`.
 * @example
 * const encoder = await loadLayersKind({ path: 'model.json', trainable: false }, { base: location.href });
 */
export async function loadLayersKind(
  options: LayersKindOptions,
  source: LayersKindSource = {},
): Promise<LayersModule> {
  const place = source.place ?? 'layers.path';
  const o = parseModuleOptions(layersKindSchema, options, 'layers');
  const url = source.base === undefined ? o.path : new URL(o.path, source.base).href;
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(source.handler === undefined ? url : source.handler(url));
  } catch (e) {
    if (e instanceof MtlError) throw e;
    throw new MtlError(
      'DATA_INVALID',
      `cannot load a tfjs LayersModel from ${url}: ${(e as Error).message}`,
      {
        place,
        cause: e,
      },
    );
  }
  if (o.trainable === false) model.trainable = false;
  return new LayersModule(model);
}
