import { stopGradient, straightThrough } from '@mtl/core';
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
  type ModuleContext,
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
import { singleInput } from './internal/tensors.js';

/**
 * The options of a {@link vectorQuantizer} module (what its constructor, `fromConfig` and the app's
 * config parse with).
 * @example
 * vectorQuantizerSchema.parse({ numEmbeddings: 16 });
 */
export const vectorQuantizerSchema = z.strictObject({
  /** K, the number of codebook vectors. */
  numEmbeddings: intOption(),
  /** D, the size of each vector (the encoder's output size); optional: a model infers it and checks a given one. */
  embeddingDim: intOption().optional(),
  /** β of the commitment loss β‖z_e − sg(e)‖² (default 0.25, the VQ-VAE paper's). */
  commitmentCost: numberOption({ min: 0 }).optional(),
  /** Codebook initialiser (default `{uniform: 1}`: U(−1, 1)). */
  init: initOption().optional(),
  seed: seedOption(),
});

/**
 * Options of {@link vectorQuantizer}.
 * @example
 * const options: VectorQuantizerOptions = { numEmbeddings: 16, embeddingDim: 2, commitmentCost: 0.25 };
 */
export type VectorQuantizerOptions = z.input<typeof vectorQuantizerSchema>;

/**
 * The named outputs of a vector quantizer for encoder outputs `z_e` `[B, D]`.
 * @example
 * const { z, onehot, loss } = vq.apply([ze], ctx) as VectorQuantizerOutput;
 */
export interface VectorQuantizerOutput {
  [key: string]: tf.Tensor;
  /** The quantised vectors with the straight-through gradient: value e_k, gradient of the identity to z_e. */
  z: tf.Tensor;
  /** The nearest codebook vectors e_k `[B, D]` (gradient to the codebook). */
  quantized: tf.Tensor;
  /** One-hot code assignments `[B, K]`. */
  onehot: tf.Tensor;
  /** ‖sg(z_e) − e_k‖² per row `[B]`: moves the codebook towards the encoder outputs. */
  codebookLoss: tf.Tensor;
  /** ‖z_e − sg(e_k)‖² per row `[B]`: keeps the encoder close to its code. */
  commitmentLoss: tf.Tensor;
  /** codebookLoss + commitmentCost · commitmentLoss per row `[B]`. */
  loss: tf.Tensor;
}

/**
 * VQ-VAE's discrete latent: a codebook `codebook` `[K, D]`; each encoder output is replaced by its
 * nearest codebook vector (squared Euclidean distance). The lookup is a one-hot matmul, not a
 * gather, so it is differentiable on the wasm backend; the decoder's gradient passes straight
 * through to the encoder, and the codebook learns from the codebook loss.
 * @example
 * const vq = new VectorQuantizer({ numEmbeddings: 16, embeddingDim: 2 });
 */
export class VectorQuantizer extends BaseModule {
  readonly type = 'vectorQuantizer';
  readonly numEmbeddings: number;
  private dim: number | undefined;
  readonly commitmentCost: number;
  readonly init: Initializer;

  constructor(options: VectorQuantizerOptions) {
    const o = parseModuleOptions(vectorQuantizerSchema, options, 'vectorQuantizer');
    super({ seed: o.seed });
    this.numEmbeddings = o.numEmbeddings;
    this.dim = o.embeddingDim;
    this.commitmentCost = o.commitmentCost ?? 0.25;
    this.init = o.init ?? { uniform: 1 };
  }

  /** Given or inferred; CONFIG_INVALID while neither. */
  get embeddingDim(): number {
    return knownSize(this.dim, 'embeddingDim', 'vectorQuantizer');
  }

  inferShape(inputs: readonly RowShape[]): OutputShape {
    const shape = concatRowShape(inputs, 'vectorQuantizer');
    this.dim = resolveSize(this.dim, shape[shape.length - 1]!, 'embeddingDim', 'vectorQuantizer');
    const lead = shape.slice(0, -1);
    const z = [...lead, this.dim];
    return {
      z,
      quantized: z,
      onehot: [...lead, this.numEmbeddings],
      codebookLoss: lead,
      commitmentLoss: lead,
      loss: lead,
    };
  }

  protected paramSpecs(): ParamSpec[] {
    return [{ name: 'codebook', shape: [this.numEmbeddings, this.embeddingDim], init: this.init }];
  }

  /**
   * Adds the codebook loss mean ‖sg(z_e) − e_k‖² as `<module>.codebook` and the commitment loss
   * β·mean ‖z_e − sg(e_k)‖² as `<module>.commitment` when the model collects module losses (a
   * training loss): the codebook learns only from the first, since no decoder gradient reaches it.
   */
  protected forward(inputs: tf.Tensor[], ctx: ModuleContext): VectorQuantizerOutput {
    const ze = singleInput(inputs, `module ${this.name}`);
    const codebook = this.param('codebook');
    const onehot = nearestCode(ze, codebook);
    const quantized = tf.matMul(onehot as tf.Tensor2D, codebook as tf.Tensor2D);
    const codebookLoss = tf.sum(tf.square(tf.sub(stopGradient(ze), quantized)), -1);
    const commitmentLoss = tf.sum(tf.square(tf.sub(ze, stopGradient(quantized))), -1);
    this.addLoss(ctx, 'codebook', tf.mean(codebookLoss) as tf.Scalar);
    this.addLoss(ctx, 'commitment', tf.mul(this.commitmentCost, tf.mean(commitmentLoss)) as tf.Scalar);
    return {
      z: straightThrough(ze, quantized),
      quantized,
      onehot,
      codebookLoss,
      commitmentLoss,
      loss: tf.add(codebookLoss, tf.mul(this.commitmentCost, commitmentLoss)),
    };
  }

  getConfig(): ModuleConfig {
    return defined({
      type: this.type,
      numEmbeddings: this.numEmbeddings,
      embeddingDim: this.dim,
      commitmentCost: this.commitmentCost,
      init: this.init,
      seed: this.seed,
    });
  }

  static fromConfig(config: ModuleConfig): VectorQuantizer {
    const { type: _, ...options } = config;
    return new VectorQuantizer(options as VectorQuantizerOptions);
  }
}

/**
 * The `vectorQuantizer` entry of the module registry ({@link registerVaeModules} registers it).
 * @example
 * vectorQuantizerKind.create({ numEmbeddings: 16 });
 */
export const vectorQuantizerKind = defineModuleKind({
  type: 'vectorQuantizer',
  schema: vectorQuantizerSchema,
  description: 'A VQ-VAE codebook: the encoder output snaps to its nearest codebook vector.',
  create: (options) => new VectorQuantizer(options),
});

/**
 * A vector-quantizer module (register it with {@link registerVaeModules} to load saved models).
 * @example
 * const vq = vectorQuantizer({ numEmbeddings: 16, embeddingDim: 2 });
 * vq.build('codebook', { seed: 1 });
 * const { z, loss } = vq.apply([ze], { training: true, seed: 0 }) as VectorQuantizerOutput;
 */
export function vectorQuantizer(options: VectorQuantizerOptions): VectorQuantizer {
  return new VectorQuantizer(options);
}

/**
 * One-hot `[B, K]` of the nearest codebook row to each row of `ze` `[B, D]`. No gradient flows
 * through the assignment (it is piecewise constant), so it is computed on detached values.
 * @example
 * nearestCode(tf.tensor2d([[0.9, 0]]), tf.tensor2d([[0, 0], [1, 0]]));   // [[0, 1]]
 */
export function nearestCode(ze: tf.Tensor, codebook: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const x = stopGradient(ze) as tf.Tensor2D;
    const e = stopGradient(codebook) as tf.Tensor2D;
    // ‖x − e‖² = ‖x‖² − 2 x·e + ‖e‖²; the ‖x‖² term does not change the argmin.
    const dist = tf.sub(tf.sum(tf.square(e), 1), tf.mul(2, tf.matMul(x, e, false, true)));
    // oneHot straight to float32 writes integer bit patterns on the wasm backend (tfjs 4.22): cast instead.
    return tf.cast(tf.oneHot(tf.argMin(dist, 1), codebook.shape[0]!), 'float32');
  });
}

/**
 * Codebook perplexity exp(H(p̄)) of one-hot assignments `[B, K]`, p̄ the average assignment: 1 when
 * every row uses one code, K when the codes are used equally.
 * @example
 * codebookPerplexity(tf.tensor2d([[1, 0], [0, 1]]));   // 2
 */
export function codebookPerplexity(onehot: tf.Tensor): number {
  const p = tf.tidy(() => tf.mean(onehot, 0));
  const values = p.dataSync();
  p.dispose();
  let h = 0;
  for (const v of values) if (v > 0) h -= v * Math.log(v);
  return Math.exp(h);
}
