import { MtlError, mixSeed } from '@mtl/core';
import {
  type ActivationName,
  activationOption,
  BaseModule,
  checkInt,
  concatRowShape,
  defined,
  defineModuleKind,
  type Initializer,
  initOption,
  intListOption,
  intOption,
  knownSize,
  Mlp,
  type ModuleConfig,
  type ModuleContext,
  numberOption,
  type OutputShape,
  type ParamSpec,
  parseModuleOptions,
  type RowShape,
  resolveSize,
  seedOption,
} from '@mtl/tasks';
import { Independent, Normal } from '@mtl/variational';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { linear, singleInput } from './internal/tensors.js';

/**
 * The options of a {@link gaussianEncoder} module (what its constructor, `fromConfig` and the app's
 * config parse with).
 * @example
 * gaussianEncoderSchema.parse({ hidden: [32], latentSize: 2 });
 */
export const gaussianEncoderSchema = z.strictObject({
  /** Size of the input's last axis; optional: a model infers it from the data and checks a given one. */
  inputSize: intOption().optional(),
  /** Hidden layers of the trunk, each followed by `activation` (default none: linear heads on the input). */
  hidden: intListOption().optional(),
  /** Dimension of the latent z. */
  latentSize: intOption(),
  /** Default `tanh`. */
  activation: activationOption().optional(),
  /** Default `glorotUniform`. */
  kernelInit: initOption().optional(),
  /** Initial bias of the log-scale head (default 0: the posteriors start with scale about 1). */
  logScaleInit: numberOption().optional(),
  seed: seedOption(),
});

/**
 * Options of {@link gaussianEncoder}.
 * @example
 * const options: GaussianEncoderOptions = { inputSize: 16, hidden: [32], latentSize: 2 };
 */
export type GaussianEncoderOptions = z.input<typeof gaussianEncoderSchema>;

/**
 * The named outputs of a Gaussian encoder for inputs `[..., inputSize]`.
 * @example
 * const { loc, logScale, z } = encoder.apply([x], ctx) as GaussianEncoderOutput;
 */
export interface GaussianEncoderOutput {
  [key: string]: tf.Tensor;
  /** Posterior means `[..., latentSize]`. */
  loc: tf.Tensor;
  /** Posterior log standard deviations `[..., latentSize]`. */
  logScale: tf.Tensor;
  /** One reparameterised draw z = loc + exp(logScale)·ε, ε ~ N(0, I) seeded from the call's seed. */
  z: tf.Tensor;
}

/**
 * q(z | x) = N(loc(x), diag(exp(logScale(x))²)): an MLP trunk (a child `mlp` module, when there
 * are hidden layers) with two linear heads. Parameters `trunk/dense_<i>/kernel|bias`,
 * `loc/kernel|bias` and `logScale/kernel|bias`; weights saved before the trunk was a child
 * (`dense_<i>/...`) load under the new names. `apply` returns `{loc, logScale, z}` with one
 * reparameterised sample (gradients flow to loc and logScale).
 * @example
 * const enc = new GaussianEncoder({ inputSize: 16, hidden: [32], latentSize: 2 });
 */
export class GaussianEncoder extends BaseModule {
  readonly type = 'gaussianEncoder';
  private size: number | undefined;
  readonly hidden: number[];
  readonly latentSize: number;
  readonly activation: ActivationName;
  readonly kernelInit: Initializer;
  readonly logScaleInit: number;
  /** The hidden layers, a child `mlp` (none without hidden layers). */
  readonly trunk: Mlp | undefined;

  constructor(options: GaussianEncoderOptions) {
    const o = parseModuleOptions(gaussianEncoderSchema, options, 'gaussianEncoder');
    super({ seed: o.seed });
    this.size = o.inputSize;
    this.hidden = [...(o.hidden ?? [])];
    this.latentSize = o.latentSize;
    this.activation = o.activation ?? 'tanh';
    this.kernelInit = o.kernelInit ?? 'glorotUniform';
    this.logScaleInit = o.logScaleInit ?? 0;
    this.trunk = trunkOf(this.size, this.hidden, this.activation, this.kernelInit, (trunk) =>
      this.child('trunk', trunk, { initFrom: 'parent' }),
    );
  }

  /** Given or inferred; CONFIG_INVALID while neither. */
  get inputSize(): number {
    return knownSize(this.size, 'inputSize', 'gaussianEncoder');
  }

  inferShape(inputs: readonly RowShape[]): OutputShape {
    const shape = concatRowShape(inputs, 'gaussianEncoder');
    this.size = resolveSize(this.size, shape[shape.length - 1]!, 'inputSize', 'gaussianEncoder');
    this.trunk?.inferShape([shape]);
    const latent = [...shape.slice(0, -1), this.latentSize];
    return { loc: latent, logScale: latent, z: latent };
  }

  protected paramSpecs(): ParamSpec[] {
    const sizes = [this.inputSize, ...this.hidden];
    const specs: ParamSpec[] = [];
    const last = sizes[sizes.length - 1]!;
    for (const head of ['loc', 'logScale']) {
      specs.push(
        { name: `${head}/kernel`, shape: [last, this.latentSize], init: this.kernelInit },
        {
          name: `${head}/bias`,
          shape: [this.latentSize],
          init: head === 'loc' ? 'zeros' : { constant: this.logScaleInit },
        },
      );
    }
    return specs;
  }

  protected forward(inputs: tf.Tensor[], ctx: ModuleContext): GaussianEncoderOutput {
    const place = `module ${this.name}`;
    const x = singleInput(inputs, place);
    const h = this.trunk === undefined ? x : (this.trunk.apply([x], ctx) as tf.Tensor);
    const loc = linear(h, this.param('loc/kernel'), this.param('loc/bias'), place);
    const logScale = linear(h, this.param('logScale/kernel'), this.param('logScale/bias'), place);
    const z = reparameterize(loc, logScale, mixSeed(ctx.seed, `${this.name}/eps`));
    return { loc, logScale, z };
  }

  getConfig(): ModuleConfig {
    return defined({
      type: this.type,
      inputSize: this.size,
      hidden: [...this.hidden],
      latentSize: this.latentSize,
      activation: this.activation,
      kernelInit: this.kernelInit,
      logScaleInit: this.logScaleInit,
      seed: this.seed,
    });
  }

  /** Weights saved before the trunk became a child module: `dense_<i>/...` → `trunk/dense_<i>/...`. */
  override upgradeWeightNames<T>(weights: Record<string, T>): Record<string, T> {
    return upgradeTrunkNames(weights);
  }

  static fromConfig(config: ModuleConfig): GaussianEncoder {
    const { type: _, ...options } = config;
    return new GaussianEncoder(options as GaussianEncoderOptions);
  }
}

/**
 * The `gaussianEncoder` entry of the module registry ({@link registerVaeModules} registers it).
 * @example
 * gaussianEncoderKind.create({ latentSize: 2 });
 */
export const gaussianEncoderKind = defineModuleKind({
  type: 'gaussianEncoder',
  schema: gaussianEncoderSchema,
  description: 'x -> q(z | x) = N(loc, exp(logScale)²) through an MLP trunk.',
  create: (options) => new GaussianEncoder(options),
});

/**
 * A Gaussian encoder module (register it with {@link registerVaeModules} to load saved models).
 * @example
 * const enc = gaussianEncoder({ inputSize: 16, hidden: [32], latentSize: 2 });
 * enc.build('encoder', { seed: 1 });
 * const { loc, logScale } = enc.apply([x], { training: true, seed: 7 }) as GaussianEncoderOutput;
 */
export function gaussianEncoder(options: GaussianEncoderOptions): GaussianEncoder {
  return new GaussianEncoder(options);
}

/**
 * The trunk of a VAE encoder or decoder: an `mlp` child with the module's hidden layers, zero
 * biases, registered to draw from the module's own init stream so that the weights equal those of
 * the time the module held the layers itself (none without hidden layers).
 */
export function trunkOf(
  inputSize: number | undefined,
  hidden: readonly number[],
  activation: ActivationName,
  kernelInit: Initializer,
  register: (trunk: Mlp) => Mlp,
): Mlp | undefined {
  if (hidden.length === 0) return undefined;
  return register(
    new Mlp(defined({ inputSize, hidden: [...hidden], activation, kernelInit, biasInit: 'zeros' as const })),
  );
}

/** Renames `dense_<i>/...` (the layout before the trunk was a child module) to `trunk/dense_<i>/...`. */
export function upgradeTrunkNames<T>(weights: Record<string, T>): Record<string, T> {
  if (!Object.keys(weights).some((k) => /^dense_\d+\//.test(k))) return weights;
  return Object.fromEntries(
    Object.entries(weights).map(([k, v]) => [/^dense_\d+\//.test(k) ? `trunk/${k}` : k, v]),
  );
}

/**
 * Reparameterised draws z = loc + exp(logScale)·ε with ε ~ N(0, I) from `seed`: shape of `loc`,
 * or `[samples, ...loc.shape]` when `samples` is given. Differentiable in loc and logScale.
 * @example
 * const z = reparameterize(loc, logScale, 42, 8);   // [8, B, D]
 */
export function reparameterize(
  loc: tf.Tensor,
  logScale: tf.Tensor,
  seed: number,
  samples?: number,
): tf.Tensor {
  return tf.tidy(() => {
    const shape = samples === undefined ? loc.shape : [samples, ...loc.shape];
    if (samples !== undefined) checkInt(samples, 'samples', 'reparameterize');
    const eps = tf.randomNormal(shape, 0, 1, 'float32', seed);
    return tf.add(loc, tf.mul(tf.exp(logScale), eps));
  });
}

/**
 * q(z | x) as a @mtl/variational distribution: a diagonal Gaussian with batch shape `loc.shape`
 * minus the last axis and event shape `[latentSize]`.
 * @example
 * const q = gaussianPosterior(loc, logScale);
 * q.logProb(z);   // [B]
 */
export function gaussianPosterior(loc: tf.Tensor, logScale: tf.Tensor): Independent {
  if (loc.rank < 1) {
    throw new MtlError('SHAPE_MISMATCH', 'loc must have a latent axis', { place: 'gaussianPosterior' });
  }
  return new Independent(Normal.fromLogScale(loc, logScale), 1);
}

/**
 * KL(N(loc, diag σ²) || N(0, I)) per row, in closed form: ½ Σ_d (σ_d² + loc_d² − 1 − 2 log σ_d).
 * Shape: `loc.shape` without the last axis.
 * @example
 * standardNormalKl(tf.tensor2d([[1, 0]]), tf.zeros([1, 2]));   // [0.5]
 */
export function standardNormalKl(loc: tf.Tensor, logScale: tf.Tensor): tf.Tensor {
  return tf.tidy(() =>
    tf.mul(
      0.5,
      tf.sum(tf.sub(tf.add(tf.exp(tf.mul(2, logScale)), tf.square(loc)), tf.add(1, tf.mul(2, logScale))), -1),
    ),
  );
}
