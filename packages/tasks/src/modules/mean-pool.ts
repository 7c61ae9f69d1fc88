import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { BaseModule, type ModuleConfig, type ParamSpec } from '../module.js';

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

  static fromConfig(): MeanPool {
    return new MeanPool();
  }
}

/**
 * Masked mean over the time axis.
 * @example
 * new Operation({ moduleName: 'pool', inputs: ['tokens', ['_input_', 'text_mask']] });
 */
export function meanPool(): MeanPool {
  return new MeanPool();
}
