import { listNames, MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { singleInput } from '../internal/module-utils.js';
import { BaseModule, type ModuleConfig, type ParamSpec } from '../module.js';
import { defineModuleKind } from '../module-kind.js';
import { enumOption, parseModuleOptions } from '../module-options.js';
import { concatRowShape, type RowShape } from '../shape-inference.js';

/**
 * Element-wise activations; every one is differentiable on the cpu and wasm backends.
 * @example
 * ACTIVATIONS.includes('gelu'); // true
 */
export const ACTIVATIONS = [
  'linear',
  'relu',
  'relu6',
  'leakyRelu',
  'elu',
  'selu',
  'sigmoid',
  'tanh',
  'softplus',
  'gelu',
  'softmax',
] as const;
/**
 * One of {@link ACTIVATIONS}.
 * @example
 * const fn: ActivationName = 'relu';
 */
export type ActivationName = (typeof ACTIVATIONS)[number];

/**
 * Applies activation `name` to `x`.
 * @example
 * applyActivation('relu', tf.tensor1d([-1, 2])); // [0, 2]
 */
export function applyActivation(name: ActivationName, x: tf.Tensor): tf.Tensor {
  switch (name) {
    case 'linear':
      return x;
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'leakyRelu':
      return tf.leakyRelu(x, 0.01);
    case 'elu':
      return tf.elu(x);
    case 'selu':
      return tf.selu(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'tanh':
      return tf.tanh(x);
    case 'softplus':
      return tf.softplus(x);
    case 'gelu': {
      // tanh approximation (as in BERT); tfjs has no gelu op.
      const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(x, tf.mul(0.044715, tf.pow(x, 3))));
      return tf.mul(tf.mul(0.5, x), tf.add(1, tf.tanh(inner)));
    }
    case 'softmax':
      return tf.softmax(x);
  }
}

/** Validates an activation name from options or a saved config. */
export function checkActivation(value: unknown, option: string, place: string): ActivationName {
  if (typeof value !== 'string' || !(ACTIVATIONS as readonly string[]).includes(value)) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `${option} must be one of ${listNames(ACTIVATIONS)}, got ${JSON.stringify(value)}`,
      { place },
    );
  }
  return value as ActivationName;
}

/**
 * A zod option naming one of {@link ACTIVATIONS} (for module option schemas).
 * @example
 * const schema = z.strictObject({ activation: activationOption().optional() });
 */
export function activationOption() {
  return enumOption(ACTIVATIONS);
}

/**
 * The options of an {@link activation} module.
 * @example
 * activationSchema.parse({ fn: 'tanh' });
 */
export const activationSchema = z.strictObject({ fn: activationOption() });

/**
 * Options of {@link activation}.
 * @example
 * const options: ActivationOptions = { fn: 'tanh' };
 */
export type ActivationOptions = z.input<typeof activationSchema>;

/**
 * A parameter-free module applying one activation; made by {@link activation}.
 * @example
 * const relu = new Activation({ fn: 'relu' });
 */
export class Activation extends BaseModule {
  readonly type = 'activation';
  readonly fn: ActivationName;

  constructor(options: ActivationOptions) {
    super();
    this.fn = parseModuleOptions(activationSchema, options, 'activation').fn;
  }

  protected paramSpecs(): ParamSpec[] {
    return [];
  }

  /** Element-wise: the (concatenated) input's row shape. */
  inferShape(inputs: readonly RowShape[]): RowShape {
    return concatRowShape(inputs, 'activation');
  }

  protected forward(inputs: tf.Tensor[]): tf.Tensor {
    return applyActivation(this.fn, singleInput(inputs, `module ${this.name}`));
  }

  getConfig(): ModuleConfig {
    return { type: this.type, fn: this.fn };
  }

  static fromConfig(config: ModuleConfig): Activation {
    const { type: _, ...options } = config;
    return new Activation(options as ActivationOptions);
  }
}

/**
 * The `activation` entry of the module registry.
 * @example
 * activationKind.create({ fn: 'relu' });
 */
export const activationKind = defineModuleKind({
  type: 'activation',
  schema: activationSchema,
  description: 'An activation function as its own operation.',
  create: (options) => new Activation(options),
});

/**
 * A module applying an activation (e.g. between two dense modules of a flow).
 * @example
 * const pool = { relu: activation({ fn: 'relu' }) };
 */
export function activation(options: ActivationOptions): Activation {
  return new Activation(options);
}
