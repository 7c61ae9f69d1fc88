import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { singleInput } from '../internal/module-utils.js';
import { BaseModule, type ModuleConfig, type ParamSpec } from '../module.js';
import { defineModuleKind } from '../module-kind.js';
import { defined, intOption, numberOption, parseModuleOptions } from '../module-options.js';
import { concatRowShape, knownSize, type RowShape, resolveSize } from '../shape-inference.js';

/**
 * Options of {@link layerNorm}.
 * @example
 * const options: LayerNormOptions = { size: 16, epsilon: 1e-6 };
 */
export type LayerNormOptions = z.input<typeof layerNormSchema>;

/**
 * The options of a {@link layerNorm} module.
 * @example
 * layerNormSchema.parse({ size: 16 });
 */
export const layerNormSchema = z.strictObject({
  /** Size of the normalised (last) axis; optional: a model infers it from the data and checks a given one. */
  size: intOption().optional(),
  /** Default 1e-5. */
  epsilon: numberOption({ min: 0 }).optional(),
  /** Learn `gamma` (ones) and `beta` (zeros); default true. */
  affine: z.boolean().optional(),
});

/**
 * Normalises the last axis to zero mean and unit variance, then scales by `gamma` and shifts by `beta`.
 * @example
 * const norm = new LayerNorm({ size: 16 }); // as layerNorm({...})
 */
export class LayerNorm extends BaseModule {
  readonly type = 'layerNorm';
  private width: number | undefined;
  readonly epsilon: number;
  readonly affine: boolean;

  constructor(options: LayerNormOptions) {
    super();
    const o = parseModuleOptions(layerNormSchema, options, 'layerNorm');
    this.width = o.size;
    this.epsilon = o.epsilon ?? 1e-5;
    this.affine = o.affine ?? true;
  }

  /** Given or inferred; CONFIG_INVALID while neither. */
  get size(): number {
    return knownSize(this.width, 'size', 'layerNorm');
  }

  inferShape(inputs: readonly RowShape[]): RowShape {
    const shape = concatRowShape(inputs, 'layerNorm');
    this.width = resolveSize(this.width, shape[shape.length - 1]!, 'size', 'layerNorm');
    return shape;
  }

  protected paramSpecs(): ParamSpec[] {
    if (!this.affine) return [];
    return [
      { name: 'gamma', shape: [this.size], init: 'ones' },
      { name: 'beta', shape: [this.size], init: 'zeros' },
    ];
  }

  protected forward(inputs: tf.Tensor[]): tf.Tensor {
    const place = `module ${this.name}`;
    const x = singleInput(inputs, place);
    if (this.width !== undefined && x.shape[x.shape.length - 1] !== this.width) {
      throw new MtlError('DATA_SHAPE_MISMATCH', `expects a last axis of ${this.width}, got [${x.shape}]`, {
        place,
      });
    }
    const mean = tf.mean(x, -1, true);
    const centred = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centred), -1, true);
    const y = tf.mul(centred, tf.rsqrt(tf.add(variance, this.epsilon)));
    return this.affine ? tf.add(tf.mul(y, this.param('gamma')), this.param('beta')) : y;
  }

  getConfig(): ModuleConfig {
    return defined({ type: this.type, size: this.width, epsilon: this.epsilon, affine: this.affine });
  }

  static fromConfig(config: ModuleConfig): LayerNorm {
    const { type: _, ...options } = config;
    return new LayerNorm(options as LayerNormOptions);
  }
}

/**
 * The `layerNorm` entry of the module registry.
 * @example
 * layerNormKind.create({ size: 16 });
 */
export const layerNormKind = defineModuleKind({
  type: 'layerNorm',
  schema: layerNormSchema,
  description: 'Layer normalisation over the last axis.',
  create: (options) => new LayerNorm(options),
});

/**
 * Layer normalisation.
 * @example
 * const pool = { norm: layerNorm({ size: 16 }) };
 */
export function layerNorm(options: LayerNormOptions): LayerNorm {
  return new LayerNorm(options);
}
