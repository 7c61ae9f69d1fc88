import { mixSeed } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { singleInput } from '../internal/module-utils.js';
import { BaseModule, type ModuleConfig, type ModuleContext, type ParamSpec } from '../module.js';
import { defineModuleKind } from '../module-kind.js';
import { numberOption, parseModuleOptions } from '../module-options.js';
import { concatRowShape, type RowShape } from '../shape-inference.js';

/**
 * Options of {@link dropout}.
 * @example
 * const options: DropoutOptions = { rate: 0.1 };
 */
export type DropoutOptions = z.input<typeof dropoutSchema>;

/**
 * The options of a {@link dropout} module.
 * @example
 * dropoutSchema.parse({ rate: 0.1 });
 */
export const dropoutSchema = z.strictObject({
  /** Fraction of values zeroed in training, in [0, 1). */
  rate: numberOption({ min: 0, max: 1, maxExclusive: true }),
});

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
    this.rate = parseModuleOptions(dropoutSchema, options, 'dropout').rate;
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
    const { type: _, ...options } = config;
    return new Dropout(options as DropoutOptions);
  }
}

/**
 * The `dropout` entry of the module registry.
 * @example
 * dropoutKind.create({ rate: 0.2 });
 */
export const dropoutKind = defineModuleKind({
  type: 'dropout',
  schema: dropoutSchema,
  description: 'Dropout as its own operation (training only).',
  create: (options) => new Dropout(options),
});

/**
 * A dropout module.
 * @example
 * const pool = { drop: dropout({ rate: 0.2 }) };
 */
export function dropout(options: DropoutOptions): Dropout {
  return new Dropout(options);
}
