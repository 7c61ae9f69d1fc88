import { MtlError } from '@mtl/core';
import {
  BaseModule,
  concatRowShape,
  defined,
  defineModuleKind,
  type Initializer,
  initOption,
  intOption,
  knownSize,
  type ModuleConfig,
  matmulLastAxis,
  numberOption,
  type OutputShape,
  type ParamSpec,
  parseModuleOptions,
  type RowShape,
  resolveSize,
  seedOption,
} from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { Independent } from './independent.js';
import { Normal } from './normal.js';

/**
 * The options of a {@link VariationalLatent} module.
 * @example
 * variationalLatentSchema.parse({ inputSize: 64, latentSize: 16 });
 */
export const variationalLatentSchema = z.strictObject({
  /** Width of the features it reads; optional: inferred from the trunk and checked when given. */
  inputSize: intOption().optional(),
  /** Dimension of the latent z. */
  latentSize: intOption(),
  /** Default `glorotUniform`. */
  kernelInit: initOption().optional(),
  /** Initial log standard deviation (default -2: q(z | x) starts narrow, so the features drive early training). */
  logScaleInit: numberOption().optional(),
  /**
   * The log standard deviation is `bound · tanh(head / bound)` (default 3: σ in [e⁻³, e³]). An
   * unbounded linear head gives some inputs σ near 0, and the KL to another task's encoder there,
   * which divides by its σ², reaches thousands of nats and drowns the likelihood.
   */
  logScaleBound: numberOption().optional(),
  seed: seedOption(),
});

/**
 * Options of {@link VariationalLatent}.
 * @example
 * const options: VariationalLatentOptions = { inputSize: 64, latentSize: 16 };
 */
export type VariationalLatentOptions = z.input<typeof variationalLatentSchema>;

/**
 * VMTL's amortised latent encoder q(z | h) = N(loc(h), diag(exp(logScale(h))²)): two linear heads
 * on the features h of the shared trunk, the log-scale one bounded by `logScaleBound` (tanh). Parameters `loc/kernel|bias`, `logScale/kernel|bias`;
 * `apply` returns `{loc, logScale}` (a deep {@link DeepVmtlModel} draws z itself, so that the prior's
 * other encoders can be applied to the same h).
 * @example
 * const latent = new VariationalLatent({ inputSize: 64, latentSize: 16 });
 * latent.build('a.latent', { seed: 1 });
 * const { loc, logScale } = latent.apply([h], { training: true, seed: 0 }) as Record<string, tf.Tensor>;
 */
export class VariationalLatent extends BaseModule {
  readonly type = 'variationalLatent';
  private size: number | undefined;
  readonly latentSize: number;
  readonly kernelInit: Initializer;
  readonly logScaleInit: number;
  readonly logScaleBound: number;

  constructor(options: VariationalLatentOptions) {
    const o = parseModuleOptions(variationalLatentSchema, options, 'variationalLatent');
    super({ seed: o.seed });
    this.size = o.inputSize;
    this.latentSize = o.latentSize;
    this.kernelInit = o.kernelInit ?? 'glorotUniform';
    this.logScaleInit = o.logScaleInit ?? -2;
    this.logScaleBound = o.logScaleBound ?? 3;
    if (!(this.logScaleBound > 0) || Math.abs(this.logScaleInit) >= this.logScaleBound) {
      throw new MtlError(
        'CONFIG_INVALID',
        `logScaleBound must be > 0 and above |logScaleInit|, got bound ${this.logScaleBound}, init ${this.logScaleInit}`,
        { place: 'module variationalLatent.logScaleBound' },
      );
    }
  }

  /** Given or inferred; CONFIG_INVALID while neither. */
  get inputSize(): number {
    return knownSize(this.size, 'inputSize', 'variationalLatent');
  }

  inferShape(inputs: readonly RowShape[]): OutputShape {
    const shape = concatRowShape(inputs, 'variationalLatent');
    this.size = resolveSize(this.size, shape[shape.length - 1]!, 'inputSize', 'variationalLatent');
    const latent = [...shape.slice(0, -1), this.latentSize];
    return { loc: latent, logScale: latent };
  }

  protected paramSpecs(): ParamSpec[] {
    const Z = this.latentSize;
    return [
      { name: 'loc/kernel', shape: [this.inputSize, Z], init: this.kernelInit },
      { name: 'loc/bias', shape: [Z], init: 'zeros' },
      { name: 'logScale/kernel', shape: [this.inputSize, Z], init: this.kernelInit },
      {
        name: 'logScale/bias',
        shape: [Z],
        init: { constant: this.logScaleBound * Math.atanh(this.logScaleInit / this.logScaleBound) },
      },
    ];
  }

  protected forward(inputs: tf.Tensor[]): Record<string, tf.Tensor> {
    const h = onlyInput(inputs, `module ${this.name}`);
    const head = (p: string) =>
      tf.add(matmulLastAxis(h, this.param(`${p}/kernel`), `module ${this.name}`), this.param(`${p}/bias`));
    const b = this.logScaleBound;
    return { loc: head('loc'), logScale: tf.mul(b, tf.tanh(tf.div(head('logScale'), b))) };
  }

  getConfig(): ModuleConfig {
    return defined({
      type: this.type,
      inputSize: this.size,
      latentSize: this.latentSize,
      kernelInit: this.kernelInit,
      logScaleInit: this.logScaleInit,
      logScaleBound: this.logScaleBound,
      seed: this.seed,
    });
  }
}

/**
 * The options of a {@link BayesianClassifier} module.
 * @example
 * bayesianClassifierSchema.parse({ inputSize: 16, outputSize: 10 });
 */
export const bayesianClassifierSchema = z.strictObject({
  /** Width of its input (the latent z, or the trunk's features without a latent); inferred when left out. */
  inputSize: intOption().optional(),
  /** Number of classes K (logits), or 1 for regression. */
  outputSize: intOption(),
  /** Standard deviation of the normal the posterior means start from (default 1/√inputSize). */
  locInit: numberOption().optional(),
  /** Initial log standard deviation of every weight (default -3). */
  logScaleInit: numberOption().optional(),
  seed: seedOption(),
});

/**
 * Options of {@link BayesianClassifier}.
 * @example
 * const options: BayesianClassifierOptions = { inputSize: 16, outputSize: 10 };
 */
export type BayesianClassifierOptions = z.input<typeof bayesianClassifierSchema>;

/**
 * A Bayesian linear classifier (or regressor) q(w) = N(loc, exp(logScale)²) over the weights
 * `[inputSize + 1, outputSize]` (the last row is the bias), one per task in a deep VMTL model. As a
 * module it gives the posterior-mean outputs h·W + b; {@link posterior} is the distribution the
 * model samples from and mixes into the other tasks' priors.
 * @example
 * const c = new BayesianClassifier({ inputSize: 16, outputSize: 10 });
 * c.build('a.classifier', { seed: 1 });
 * c.posterior().sample(5, 7);   // [5, 17, 10]
 */
export class BayesianClassifier extends BaseModule {
  readonly type = 'bayesianClassifier';
  private size: number | undefined;
  readonly outputSize: number;
  readonly locInit: number | undefined;
  readonly logScaleInit: number;

  constructor(options: BayesianClassifierOptions) {
    const o = parseModuleOptions(bayesianClassifierSchema, options, 'bayesianClassifier');
    super({ seed: o.seed });
    this.size = o.inputSize;
    this.outputSize = o.outputSize;
    this.locInit = o.locInit;
    this.logScaleInit = o.logScaleInit ?? -3;
  }

  /** Given or inferred; CONFIG_INVALID while neither. */
  get inputSize(): number {
    return knownSize(this.size, 'inputSize', 'bayesianClassifier');
  }

  inferShape(inputs: readonly RowShape[]): OutputShape {
    const shape = concatRowShape(inputs, 'bayesianClassifier');
    this.size = resolveSize(this.size, shape[shape.length - 1]!, 'inputSize', 'bayesianClassifier');
    return [...shape.slice(0, -1), this.outputSize];
  }

  protected paramSpecs(): ParamSpec[] {
    const shape = [this.inputSize + 1, this.outputSize];
    return [
      { name: 'loc', shape, init: { normal: this.locInit ?? 1 / Math.sqrt(this.inputSize) } },
      { name: 'logScale', shape, init: { constant: this.logScaleInit } },
    ];
  }

  /** q(w): an Independent Normal with event shape `[inputSize + 1, outputSize]`. */
  posterior(): Independent {
    return new Independent(Normal.fromLogScale(this.param('loc'), this.param('logScale')), 2);
  }

  protected forward(inputs: tf.Tensor[]): tf.Tensor {
    const h = onlyInput(inputs, `module ${this.name}`);
    return applyWeights(h, this.param('loc'));
  }

  getConfig(): ModuleConfig {
    return defined({
      type: this.type,
      inputSize: this.size,
      outputSize: this.outputSize,
      locInit: this.locInit,
      logScaleInit: this.logScaleInit,
      seed: this.seed,
    });
  }
}

/** h `[B, D]` times weights `[D + 1, K]` whose last row is the bias: `[B, K]`. */
export function applyWeights(h: tf.Tensor, w: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const D = w.shape[0]! - 1;
    const kernel = tf.slice(w, [0, 0], [D, -1]);
    const bias = tf.slice(w, [D, 0], [1, -1]);
    return tf.add(matmulLastAxis(h, kernel, 'applyWeights'), bias);
  });
}

function onlyInput(inputs: tf.Tensor[], place: string): tf.Tensor {
  if (inputs.length !== 1 || inputs[0]!.rank !== 2) {
    throw new MtlError(
      'SHAPE_MISMATCH',
      `expects one input of rank 2 [B, features], got ${inputs.length} input(s)${inputs[0] ? ` of shape [${inputs[0].shape}]` : ''}`,
      { place },
    );
  }
  return inputs[0]!;
}

/**
 * The `variationalLatent` entry of the module registry ({@link registerVariationalModules} registers it).
 * @example
 * variationalLatentKind.create({ inputSize: 64, latentSize: 16 });
 */
export const variationalLatentKind = defineModuleKind({
  type: 'variationalLatent',
  schema: variationalLatentSchema,
  description: "VMTL's amortised latent encoder h -> q(z | h) = N(loc, exp(logScale)²), two linear heads.",
  create: (options) => new VariationalLatent(options),
});

/**
 * The `bayesianClassifier` entry of the module registry ({@link registerVariationalModules} registers it).
 * @example
 * bayesianClassifierKind.create({ inputSize: 16, outputSize: 10 });
 */
export const bayesianClassifierKind = defineModuleKind({
  type: 'bayesianClassifier',
  schema: bayesianClassifierSchema,
  description:
    'A Bayesian linear classifier q(w) = N(loc, exp(logScale)²) over [inputSize + 1, outputSize] weights.',
  create: (options) => new BayesianClassifier(options),
});
