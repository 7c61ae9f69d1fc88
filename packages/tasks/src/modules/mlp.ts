import { mixSeed } from '@mtl/core';
import { fusedDense } from '@mtl/core/ops';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Initializer } from '../internal/init.js';
import { matmulLastAxis, singleInput } from '../internal/module-utils.js';
import { BaseModule, type ModuleConfig, type ModuleContext, type ParamSpec } from '../module.js';
import { defineModuleKind } from '../module-kind.js';
import {
  defined,
  initOption,
  intListOption,
  intOption,
  numberOption,
  parseModuleOptions,
  seedOption,
} from '../module-options.js';
import { concatRowShape, knownSize, type RowShape, resolveSize } from '../shape-inference.js';
import { type ActivationName, activationOption, applyActivation } from './activation.js';

/**
 * The options of an {@link mlp} module.
 * @example
 * mlpSchema.parse({ hidden: [8, 4] });
 */
export const mlpSchema = z
  .strictObject({
    /** Size of the input's last axis; optional: a model infers it from the data and checks a given one. */
    inputSize: intOption().optional(),
    /** Sizes of the hidden layers; each is followed by `activation` (and dropout when set). */
    hidden: intListOption(),
    /** When set, a last dense layer of this size follows, with `outputActivation` (default linear). */
    outputSize: intOption().optional(),
    /** Default `relu`. */
    activation: activationOption().optional(),
    /** Default `linear`. */
    outputActivation: activationOption().optional(),
    /** Dropout rate after each hidden activation, in training only; default 0. */
    dropout: numberOption({ min: 0, max: 1, maxExclusive: true }).optional(),
    /** Default `glorotUniform`. */
    kernelInit: initOption().optional(),
    /** Default `zeros`, except with a `torchUniform` kernel (then like PyTorch's `nn.Linear`). */
    biasInit: initOption().optional(),
    seed: seedOption(),
  })
  .refine((o) => o.hidden.length > 0 || o.outputSize !== undefined, {
    message: 'needs at least one hidden layer or an outputSize',
    path: ['hidden'],
  });

/**
 * Options of {@link mlp}.
 * @example
 * const options: MlpOptions = { inputSize: 2, hidden: [8, 4], dropout: 0.1 };
 */
export type MlpOptions = z.input<typeof mlpSchema>;

/**
 * A stack of dense layers with parameters `dense_<i>/kernel` and `dense_<i>/bias`.
 * `mlp({inputSize: 2, hidden: [8, 4]})` is the tutorial's `base_mlp`:
 * Linear(2, 8), ReLU, Linear(8, 4), ReLU.
 * @example
 * const base = new Mlp({ inputSize: 2, hidden: [8, 4] }); // as mlp({...})
 */
export class Mlp extends BaseModule {
  readonly type = 'mlp';
  private size: number | undefined;
  readonly hidden: number[];
  readonly outputSize: number | undefined;
  readonly activation: ActivationName;
  readonly outputActivation: ActivationName;
  readonly dropout: number;
  readonly kernelInit: Initializer;
  private readonly explicitBiasInit: Initializer | undefined;

  constructor(options: MlpOptions) {
    const place = 'mlp';
    const o = parseModuleOptions(mlpSchema, options, place);
    super({ seed: o.seed });
    this.size = o.inputSize;
    this.hidden = [...o.hidden];
    this.outputSize = o.outputSize;
    this.activation = o.activation ?? 'relu';
    this.outputActivation = o.outputActivation ?? 'linear';
    this.dropout = o.dropout ?? 0;
    this.kernelInit = o.kernelInit ?? 'glorotUniform';
    this.explicitBiasInit = o.biasInit;
  }

  /** `zeros`, or `torchUniform` with a `torchUniform` kernel, unless given. */
  get biasInit(): Initializer {
    return this.explicitBiasInit ?? (this.kernelInit === 'torchUniform' ? 'torchUniform' : 'zeros');
  }

  /** Given or inferred; CONFIG_INVALID while neither. */
  get inputSize(): number {
    return knownSize(this.size, 'inputSize', 'mlp');
  }

  inferShape(inputs: readonly RowShape[]): RowShape {
    const shape = concatRowShape(inputs, 'mlp');
    this.size = resolveSize(this.size, shape[shape.length - 1]!, 'inputSize', 'mlp');
    const sizes = this.sizes();
    return [...shape.slice(0, -1), sizes[sizes.length - 1]!];
  }

  /** Layer sizes from input to output. */
  private sizes(): number[] {
    return [this.inputSize, ...this.hidden, ...(this.outputSize === undefined ? [] : [this.outputSize])];
  }

  protected paramSpecs(): ParamSpec[] {
    const sizes = this.sizes();
    const biasInit = this.biasInit;
    return sizes.slice(1).flatMap((out, i) => [
      { name: `dense_${i}/kernel`, shape: [sizes[i]!, out], init: this.kernelInit },
      { name: `dense_${i}/bias`, shape: [out], init: biasInit, fanIn: sizes[i]! },
    ]);
  }

  protected forward(inputs: tf.Tensor[], ctx: ModuleContext): tf.Tensor {
    const place = `module ${this.name}`;
    let x = singleInput(inputs, place);
    const layers = this.sizes().length - 1;
    for (let i = 0; i < layers; i++) {
      const kernel = this.param(`dense_${i}/kernel`);
      const bias = this.param(`dense_${i}/bias`);
      const isOutput = this.outputSize !== undefined && i === layers - 1;
      const activation = isOutput ? this.outputActivation : this.activation;
      const fused =
        x.shape[x.rank - 1] === kernel.shape[0] ? fusedDense(x, kernel, bias, activation) : undefined;
      x = fused ?? applyActivation(activation, tf.add(matmulLastAxis(x, kernel, place), bias));
      if (!isOutput && ctx.training && this.dropout > 0) {
        x = tf.dropout(x, this.dropout, undefined, mixSeed(ctx.seed, `${this.name}/dropout_${i}`));
      }
    }
    return x;
  }

  getConfig(): ModuleConfig {
    return defined({
      type: this.type,
      inputSize: this.size,
      hidden: [...this.hidden],
      outputSize: this.outputSize,
      activation: this.activation,
      outputActivation: this.outputActivation,
      dropout: this.dropout,
      kernelInit: this.kernelInit,
      biasInit: this.explicitBiasInit,
      seed: this.seed,
    });
  }

  static fromConfig(config: ModuleConfig): Mlp {
    const { type: _, ...options } = config;
    return new Mlp(options as MlpOptions);
  }
}

/**
 * The `mlp` entry of the module registry.
 * @example
 * mlpKind.create({ hidden: [8, 4] });
 */
export const mlpKind = defineModuleKind({
  type: 'mlp',
  schema: mlpSchema,
  description:
    'A stack of dense layers: `hidden` layers each followed by `activation`, then an optional output layer.',
  create: (options) => new Mlp(options),
});

/**
 * A multilayer perceptron.
 * @example
 * const base = mlp({ inputSize: 2, hidden: [8, 4] });            // Linear(2,8) ReLU Linear(8,4) ReLU
 * const clf = mlp({ inputSize: 16, hidden: [32], outputSize: 3, dropout: 0.1 });
 */
export function mlp(options: MlpOptions): Mlp {
  return new Mlp(options);
}
