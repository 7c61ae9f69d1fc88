import { mixSeed } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { singleInput } from '../internal/module-utils.js';
import { BaseModule, type ModuleConfig, type ModuleContext, type ParamSpec } from '../module.js';
import { checkNumber } from '../module-options.js';
import { concatRowShape, type RowShape } from '../shape-inference.js';

/**
 * Options of {@link dropout}.
 * @example
 * const options: DropoutOptions = { rate: 0.1 };
 */
export interface DropoutOptions {
  /** Fraction of values zeroed in training, in [0, 1). */
  rate: number;
}

/**
 * Inverted dropout in training steps, identity otherwise. The mask is drawn from the step's seed
 * mixed with the module's name, so the same seed gives the same masks.
 * @example
 * const drop = new Dropout({ rate: 0.2 }); // as dropout({...})
 */
export class Dropout extends BaseModule {
  readonly type = 'dropout';
  readonly rate: number;

  constructor(options: DropoutOptions) {
    super();
    this.rate = checkNumber(options.rate, 'rate', 'dropout', { min: 0, max: 1, maxExclusive: true });
  }

  protected paramSpecs(): ParamSpec[] {
    return [];
  }

  /** Element-wise: the (concatenated) input's row shape. */
  inferShape(inputs: readonly RowShape[]): RowShape {
    return concatRowShape(inputs, 'dropout');
  }

  protected forward(inputs: tf.Tensor[], ctx: ModuleContext): tf.Tensor {
    const x = singleInput(inputs, `module ${this.name}`);
    if (!ctx.training || this.rate === 0) return x;
    return tf.dropout(x, this.rate, undefined, mixSeed(ctx.seed, this.name ?? this.type));
  }

  getConfig(): ModuleConfig {
    return { type: this.type, rate: this.rate };
  }

  static fromConfig(config: ModuleConfig): Dropout {
    return new Dropout(config as unknown as DropoutOptions);
  }
}

/**
 * A dropout module.
 * @example
 * const pool = { drop: dropout({ rate: 0.2 }) };
 */
export function dropout(options: DropoutOptions): Dropout {
  return new Dropout(options);
}
