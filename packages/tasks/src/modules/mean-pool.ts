import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { BaseModule, type ModuleConfig, type ParamSpec } from '../module.js';
import { defineModuleKind } from '../module-kind.js';
import { parseModuleOptions } from '../module-options.js';
import type { RowShape } from '../shape-inference.js';

/**
 * Averages `[B, T, D]` over T. With a second input, a `[B, T]` mask (1 = real, 0 = padding, as the
 * `<field>_mask` that @mtl/data adds to padded fields), only real positions count; a row with no
 * real position gives zeros.
 * @example
 * const pool = new MeanPool(); // as meanPool()
 */
export class MeanPool extends BaseModule {
  readonly type = 'meanPool';

  protected paramSpecs(): ParamSpec[] {
    return [];
  }

  /** Values of row shape [T, D] (and a mask [T]) give [D]. */
  inferShape(inputs: readonly RowShape[]): RowShape {
    const [x, mask] = inputs;
    if (x === undefined || x.length !== 2 || inputs.length > 2) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `expects values of row shape [T, D] (and a mask [T]), got ${inputs.length} input(s) of row shapes ${inputs.map((s) => `[${s.map((d) => d ?? '?')}]`).join(', ')}`,
        { place: 'meanPool' },
      );
    }
    if (
      mask !== undefined &&
      (mask.length !== 1 || (mask[0] !== null && x[0] !== null && mask[0] !== x[0]))
    ) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `mask rows [${mask.map((d) => d ?? '?')}] do not fit values [${x.map((d) => d ?? '?')}]`,
        {
          place: 'meanPool',
        },
      );
    }
    return [x[1]!];
  }

  protected forward(inputs: tf.Tensor[]): tf.Tensor {
    const place = `module ${this.name}`;
    const [x, mask] = inputs;
    if (x === undefined || x.rank !== 3 || inputs.length > 2) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `expects [values [B, T, D]] or [values, mask [B, T]], got ${inputs.length} input(s) of shapes ${inputs.map((t) => `[${t.shape}]`).join(', ')}`,
        { place },
      );
    }
    if (mask === undefined) return tf.mean(x, 1);
    if (mask.rank !== 2 || mask.shape[0] !== x.shape[0] || mask.shape[1] !== x.shape[1]) {
      throw new MtlError('DATA_SHAPE_MISMATCH', `mask [${mask.shape}] does not fit values [${x.shape}]`, {
        place,
      });
    }
    const m = mask.dtype === 'float32' ? mask : tf.cast(mask, 'float32');
    const summed = tf.sum(tf.mul(x, tf.expandDims(m, 2)), 1);
    return tf.div(summed, tf.maximum(tf.sum(m, 1, true), 1));
  }

  getConfig(): ModuleConfig {
    return { type: this.type };
  }

  static fromConfig(config: ModuleConfig = { type: 'meanPool' }): MeanPool {
    const { type: _, ...options } = config;
    parseModuleOptions(meanPoolSchema, options, 'meanPool');
    return new MeanPool();
  }
}

/**
 * The options of a {@link meanPool} module: none.
 * @example
 * meanPoolSchema.parse({});
 */
export const meanPoolSchema = z.strictObject({});

/**
 * The `meanPool` entry of the module registry.
 * @example
 * meanPoolKind.create({});
 */
export const meanPoolKind = defineModuleKind({
  type: 'meanPool',
  schema: meanPoolSchema,
  description: 'The mean over the second-to-last axis (e.g. of a sequence of embeddings).',
  create: () => new MeanPool(),
});

/**
 * Masked mean over the time axis.
 * @example
 * new Operation({ moduleName: 'pool', inputs: ['tokens', ['_input_', 'text_mask']] });
 */
export function meanPool(): MeanPool {
  return new MeanPool();
}
