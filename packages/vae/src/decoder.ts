import { MtlError } from '@mtl/core';
import {
  type ActivationName,
  activationOption,
  BaseModule,
  concatRowShape,
  defined,
  defineModuleKind,
  enumOption,
  type Initializer,
  initOption,
  intListOption,
  intOption,
  knownSize,
  type Mlp,
  type ModuleConfig,
  type ModuleContext,
  type ModuleOutput,
  numberOption,
  type OutputShape,
  type ParamSpec,
  parseModuleOptions,
  type RowShape,
  resolveSize,
  seedOption,
} from '@mtl/tasks';
import { Bernoulli, type Distribution, Independent, Normal } from '@mtl/variational';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { trunkOf, upgradeTrunkNames } from './gaussian-encoder.js';
import { linear, singleInput } from './internal/tensors.js';

/**
 * Likelihoods p(x | z) a {@link Decoder} can have.
 * @example
 * LIKELIHOODS.includes('bernoulli'); // true
 */
export const LIKELIHOODS = ['gaussian', 'bernoulli'] as const;
/**
 * One of {@link LIKELIHOODS}.
 * @example
 * const l: Likelihood = 'gaussian';
 */
export type Likelihood = (typeof LIKELIHOODS)[number];

/**
 * How a Gaussian decoder's scale is set: `learned` (one log-scale parameter per output dimension,
 * shared by all z) or `fixed` (the constant `scale`).
 * @example
 * const s: DecoderScale = 'fixed';
 */
export type DecoderScale = 'learned' | 'fixed';

/**
 * The options of a {@link decoder} module (what its constructor, `fromConfig` and the app's config
 * parse with).
 * @example
 * decoderSchema.parse({ hidden: [32], outputSize: 16 });
 */
export const decoderSchema = z.strictObject({
  /**
   * Size of the input's last axis (the latent size, or the width of a trunk before it); optional:
   * a model infers it and checks a given one.
   */
  inputSize: intOption().optional(),
  /** Hidden layers, each followed by `activation` (default none: a linear map). */
  hidden: intListOption().optional(),
  /** Dimension of x. */
  outputSize: intOption(),
  /** Default `tanh`. */
  activation: activationOption().optional(),
  /** Default `gaussian`. */
  likelihood: enumOption(LIKELIHOODS).optional(),
  /** Gaussian only; default `learned`. */
  scaleMode: enumOption(['learned', 'fixed']).optional(),
  /** Gaussian only: the fixed σ, or the initial σ of a learned scale (default 1). */
  scale: numberOption({ min: 0, minExclusive: true }).optional(),
  /** Default `glorotUniform`. */
  kernelInit: initOption().optional(),
  seed: seedOption(),
});

/**
 * Options of {@link decoder}.
 * @example
 * const options: DecoderOptions = { inputSize: 2, hidden: [32], outputSize: 16, likelihood: 'gaussian' };
 */
export type DecoderOptions = z.input<typeof decoderSchema>;

/**
 * p(x | z): an MLP whose output layer gives the likelihood's parameters. Gaussian: `{loc, logScale}`
 * (loc `[..., outputSize]`; logScale the learned parameter `[outputSize]` or a constant scalar);
 * Bernoulli: `{logits}`. The hidden layers are a child `mlp` module (`trunk`): parameters
 * `trunk/dense_<i>/kernel|bias`, `out/kernel|bias`, and `logScale` for a learned Gaussian scale;
 * weights saved before the trunk was a child (`dense_<i>/...`) load under the new names. {@link likelihoodOf} turns the output into a distribution.
 * @example
 * const dec = new Decoder({ inputSize: 2, hidden: [32], outputSize: 16 });
 */
export class Decoder extends BaseModule {
  readonly type = 'vaeDecoder';
  private size: number | undefined;
  readonly hidden: number[];
  readonly outputSize: number;
  readonly activation: ActivationName;
  readonly likelihood: Likelihood;
  readonly scaleMode: DecoderScale;
  readonly scale: number;
  readonly kernelInit: Initializer;
  /** The hidden layers, a child `mlp` (none without hidden layers). */
  readonly trunk: Mlp | undefined;

  constructor(options: DecoderOptions) {
    const o = parseModuleOptions(decoderSchema, options, 'vaeDecoder');
    super({ seed: o.seed });
    this.size = o.inputSize;
    this.hidden = [...(o.hidden ?? [])];
    this.outputSize = o.outputSize;
    this.activation = o.activation ?? 'tanh';
    this.likelihood = o.likelihood ?? 'gaussian';
    this.scaleMode = o.scaleMode ?? 'learned';
    this.scale = o.scale ?? 1;
    this.kernelInit = o.kernelInit ?? 'glorotUniform';
    this.trunk = trunkOf(this.size, this.hidden, this.activation, this.kernelInit, (trunk) =>
      this.child('trunk', trunk, { initFrom: 'parent' }),
    );
  }

  /** Given or inferred; CONFIG_INVALID while neither. */
  get inputSize(): number {
    return knownSize(this.size, 'inputSize', 'vaeDecoder');
  }

  inferShape(inputs: readonly RowShape[]): OutputShape {
    const shape = concatRowShape(inputs, 'vaeDecoder');
    this.size = resolveSize(this.size, shape[shape.length - 1]!, 'inputSize', 'vaeDecoder');
    this.trunk?.inferShape([shape]);
    const out = [...shape.slice(0, -1), this.outputSize];
    if (this.likelihood === 'bernoulli') return { logits: out };
    return { loc: out, logScale: this.scaleMode === 'learned' ? [this.outputSize] : [] };
  }

  protected paramSpecs(): ParamSpec[] {
    const sizes = [this.inputSize, ...this.hidden];
    const specs: ParamSpec[] = [];
    specs.push(
      { name: 'out/kernel', shape: [sizes[sizes.length - 1]!, this.outputSize], init: this.kernelInit },
      { name: 'out/bias', shape: [this.outputSize], init: 'zeros' },
    );
    if (this.likelihood === 'gaussian' && this.scaleMode === 'learned') {
      specs.push({ name: 'logScale', shape: [this.outputSize], init: { constant: Math.log(this.scale) } });
    }
    return specs;
  }

  protected forward(inputs: tf.Tensor[], ctx: ModuleContext): ModuleOutput {
    const place = `module ${this.name}`;
    const x = singleInput(inputs, place);
    const h = this.trunk === undefined ? x : (this.trunk.apply([x], ctx) as tf.Tensor);
    const out = linear(h, this.param('out/kernel'), this.param('out/bias'), place);
    if (this.likelihood === 'bernoulli') return { logits: out };
    const logScale = this.scaleMode === 'learned' ? this.param('logScale') : tf.scalar(Math.log(this.scale));
    return { loc: out, logScale };
  }

  getConfig(): ModuleConfig {
    return defined({
      type: this.type,
      inputSize: this.size,
      hidden: [...this.hidden],
      outputSize: this.outputSize,
      activation: this.activation,
      likelihood: this.likelihood,
      scaleMode: this.scaleMode,
      scale: this.scale,
      kernelInit: this.kernelInit,
      seed: this.seed,
    });
  }

  /** Weights saved before the trunk became a child module: `dense_<i>/...` → `trunk/dense_<i>/...`. */
  override upgradeWeightNames<T>(weights: Record<string, T>): Record<string, T> {
    return upgradeTrunkNames(weights);
  }

  static fromConfig(config: ModuleConfig): Decoder {
    const { type: _, ...options } = config;
    return new Decoder(options as DecoderOptions);
  }
}

/**
 * The `vaeDecoder` entry of the module registry ({@link registerVaeModules} registers it).
 * @example
 * decoderKind.create({ outputSize: 16 });
 */
export const decoderKind = defineModuleKind({
  type: 'vaeDecoder',
  schema: decoderSchema,
  description: 'z -> p(x | z): an MLP and a Gaussian or Bernoulli likelihood.',
  create: (options) => new Decoder(options),
});

/**
 * A VAE decoder module (register it with {@link registerVaeModules} to load saved models).
 * @example
 * const dec = decoder({ inputSize: 2, hidden: [32], outputSize: 16, likelihood: 'gaussian', scaleMode: 'learned' });
 * const bin = decoder({ inputSize: 2, outputSize: 784, likelihood: 'bernoulli' });
 */
export function decoder(options: DecoderOptions): Decoder {
  return new Decoder(options);
}

/**
 * The likelihood p(x | z) a decoder output describes, as a distribution whose event is the last
 * axis: `{logits}` → Bernoulli, `{loc, logScale}` → diagonal Gaussian. Any module returning one of
 * those shapes can end a decoder chain.
 * @example
 * const px = likelihoodOf(dec.apply([z], ctx), 'task a');
 * px.logProb(x);   // [B]
 */
export function likelihoodOf(output: ModuleOutput, place: string): Distribution {
  if (output instanceof tf.Tensor || Array.isArray(output)) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      'the last decoder module must return {loc, logScale} (Gaussian) or {logits} (Bernoulli)',
      { place },
    );
  }
  if (output.logits !== undefined) return new Independent(new Bernoulli(output.logits), 1);
  if (output.loc !== undefined && output.logScale !== undefined) {
    return new Independent(Normal.fromLogScale(output.loc, output.logScale), 1);
  }
  throw new MtlError(
    'INVALID_ARGUMENT',
    `the last decoder module returned {${Object.keys(output).join(', ')}}; expected {loc, logScale} or {logits}`,
    { place },
  );
}

/**
 * The mean of p(x | z) from a decoder output: loc (Gaussian) or sigmoid(logits) (Bernoulli).
 * @example
 * const reconstruction = likelihoodMean(dec.apply([loc], ctx), 'task a');
 */
export function likelihoodMean(output: ModuleOutput, place: string): tf.Tensor {
  const d = likelihoodOf(output, place);
  return d.mean();
}
