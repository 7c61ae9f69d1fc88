import { fusedDense } from '@mtl/core/ops';
import * as tf from '@tensorflow/tfjs';
import type { Initializer } from '../internal/init.js';
import { matmulLastAxis, singleInput } from '../internal/module-utils.js';
import { BaseModule, type ModuleConfig, type ParamSpec } from '../module.js';
import { checkInit, checkInt, defined, optionalSeed } from '../module-options.js';
import { concatRowShape, knownSize, type RowShape, resolveSize } from '../shape-inference.js';
import { type ActivationName, applyActivation, checkActivation } from './activation.js';

/**
 * Options of {@link dense}.
 * @example
 * const options: DenseOptions = { inputSize: 4, units: 2, activation: 'linear' };
 */
export interface DenseOptions {
  /**
   * Size of the input's last axis (of the concatenated inputs when an operation passes several).
   * Optional: a model infers it from the data's field shapes and checks a given one.
   */
  inputSize?: number;
  units: number;
  /** Default `linear`. */
  activation?: ActivationName;
  /** Default true. */
  useBias?: boolean;
  /** Default `glorotUniform`. */
  kernelInit?: Initializer;
  /** Default `zeros`. */
  biasInit?: Initializer;
  /** Initialiser seed; default the model's seed. */
  seed?: number;
}

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
    const place = 'dense';
    super({ seed: optionalSeed(options.seed, place) });
    this.size = options.inputSize === undefined ? undefined : checkInt(options.inputSize, 'inputSize', place);
    this.units = checkInt(options.units, 'units', place);
    this.activation = checkActivation(options.activation ?? 'linear', 'activation', place);
    this.useBias = options.useBias ?? true;
    this.kernelInit = checkInit(options.kernelInit ?? 'glorotUniform', 'kernelInit', place);
    this.biasInit = checkInit(options.biasInit ?? 'zeros', 'biasInit', place);
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
    return new Dense(config as unknown as DenseOptions);
  }
}

/**
 * A fully connected layer (`nn.Linear` in the Snorkel tutorial).
 * @example
 * const pool = { circle_head: dense({ inputSize: 4, units: 2 }) };
 */
export function dense(options: DenseOptions): Dense {
  return new Dense(options);
}
