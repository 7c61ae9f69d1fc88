import { fusedDense } from '@mtl/core/ops';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Initializer } from '../internal/init.js';
import { matmulLastAxis, singleInput } from '../internal/module-utils.js';
import { BaseModule, type ModuleConfig, type ParamSpec } from '../module.js';
import { defineModuleKind } from '../module-kind.js';
import { defined, initOption, intOption, parseModuleOptions, seedOption } from '../module-options.js';
import { concatRowShape, knownSize, type RowShape, resolveSize } from '../shape-inference.js';
import { type ActivationName, activationOption, applyActivation } from './activation.js';

/**
 * The options of a {@link dense} module (what its constructor, `fromConfig` and the app's config
 * parse with).
 * @example
 * denseSchema.parse({ units: 2 }); // { units: 2 }
 */
export const denseSchema = z.strictObject({
  /**
   * Size of the input's last axis (of the concatenated inputs when an operation passes several).
   * Optional: a model infers it from the data's field shapes and checks a given one.
   */
  inputSize: intOption().optional(),
  units: intOption(),
  /** Default `linear`. */
  activation: activationOption().optional(),
  /** Default true. */
  useBias: z.boolean().optional(),
  /** Default `glorotUniform`. */
  kernelInit: initOption().optional(),
  /** Default `zeros`. */
  biasInit: initOption().optional(),
  /** Initialiser seed; default the model's seed. */
  seed: seedOption(),
});

/**
 * Options of {@link dense}.
 * @example
 * const options: DenseOptions = { inputSize: 4, units: 2, activation: 'linear' };
 */
export type DenseOptions = z.input<typeof denseSchema>;

/**
 * y = activation(x W + b) on the last axis. Parameters `kernel` [inputSize, units] and `bias` [units].
 * @example
 * const head = new Dense({ inputSize: 4, units: 2 }); // as dense({...})
 */
export class Dense extends BaseModule {
  readonly type = 'dense';
  private size: number | undefined;
  readonly units: number;
  readonly activation: ActivationName;
  readonly useBias: boolean;
  readonly kernelInit: Initializer;
  readonly biasInit: Initializer;

  constructor(options: DenseOptions) {
    const o = parseModuleOptions(denseSchema, options, 'dense');
    super({ seed: o.seed });
    this.size = o.inputSize;
    this.units = o.units;
    this.activation = o.activation ?? 'linear';
    this.useBias = o.useBias ?? true;
    this.kernelInit = o.kernelInit ?? 'glorotUniform';
    this.biasInit = o.biasInit ?? 'zeros';
  }

  /** Given or inferred; CONFIG_INVALID while neither. */
  get inputSize(): number {
    return knownSize(this.size, 'inputSize', 'dense');
  }

  inferShape(inputs: readonly RowShape[]): RowShape {
    const shape = concatRowShape(inputs, 'dense');
    this.size = resolveSize(this.size, shape[shape.length - 1]!, 'inputSize', 'dense');
    return [...shape.slice(0, -1), this.units];
  }

  protected paramSpecs(): ParamSpec[] {
    const specs: ParamSpec[] = [
      { name: 'kernel', shape: [this.inputSize, this.units], init: this.kernelInit },
    ];
    if (this.useBias) {
      specs.push({ name: 'bias', shape: [this.units], init: this.biasInit, fanIn: this.inputSize });
    }
    return specs;
  }

  protected forward(inputs: tf.Tensor[]): tf.Tensor {
    const place = `module ${this.name}`;
    const x = singleInput(inputs, place);
    const bias = this.useBias ? this.param('bias') : undefined;
    if (x.shape[x.rank - 1] === this.inputSize) {
      const fused = fusedDense(x, this.param('kernel'), bias, this.activation);
      if (fused !== undefined) return fused;
    }
    let y = matmulLastAxis(x, this.param('kernel'), place);
    if (bias !== undefined) y = tf.add(y, bias);
    return applyActivation(this.activation, y);
  }

  getConfig(): ModuleConfig {
    return defined({
      type: this.type,
      inputSize: this.size,
      units: this.units,
      activation: this.activation,
      useBias: this.useBias,
      kernelInit: this.kernelInit,
      biasInit: this.biasInit,
      seed: this.seed,
    });
  }

  static fromConfig(config: ModuleConfig): Dense {
    const { type: _, ...options } = config;
    return new Dense(options as DenseOptions);
  }
}

/**
 * The `dense` entry of the module registry.
 * @example
 * denseKind.create({ units: 2 }); // as dense({ units: 2 })
 */
export const denseKind = defineModuleKind({
  type: 'dense',
  schema: denseSchema,
  description: 'A fully connected layer: `activation(x W + b)`.',
  create: (options) => new Dense(options),
});

/**
 * A fully connected layer (`nn.Linear` in the Snorkel tutorial).
 * @example
 * const pool = { circle_head: dense({ inputSize: 4, units: 2 }) };
 */
export function dense(options: DenseOptions): Dense {
  return new Dense(options);
}
