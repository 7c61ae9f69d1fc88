import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Initializer } from '../internal/init.js';
import { BaseModule, type ModuleConfig, type ParamSpec } from '../module.js';
import { defineModuleKind } from '../module-kind.js';
import { defined, initOption, intOption, parseModuleOptions, seedOption } from '../module-options.js';
import type { RowShape } from '../shape-inference.js';

/**
 * Options of {@link embedding}.
 * @example
 * const options: EmbeddingOptions = { vocabSize: 1000, dim: 32 };
 */
export type EmbeddingOptions = z.input<typeof embeddingSchema>;

/**
 * The options of an {@link embedding} module.
 * @example
 * embeddingSchema.parse({ vocabSize: 1000, dim: 32 });
 */
export const embeddingSchema = z.strictObject({
  /** Number of ids; ids outside [0, vocabSize) (e.g. -1 padding) map to a zero vector. */
  vocabSize: intOption(),
  dim: intOption(),
  /** Default `{uniform: 0.05}` (as Keras). */
  init: initOption().optional(),
  seed: seedOption(),
});

/**
 * Looks up a `dim`-vector per id: ids `[B]` give `[B, dim]`, ids `[B, T]` give `[B, T, dim]`.
 * The lookup is a one-hot matrix product, not a gather, because tfjs's wasm backend has no
 * gradient for gather; the cost is O(ids x vocabSize), fine for the vocabularies this toolkit targets.
 * @example
 * const tokens = new Embedding({ vocabSize: 1000, dim: 32 }); // as embedding({...})
 */
export class Embedding extends BaseModule {
  readonly type = 'embedding';
  readonly vocabSize: number;
  readonly dim: number;
  readonly init: Initializer;

  constructor(options: EmbeddingOptions) {
    const o = parseModuleOptions(embeddingSchema, options, 'embedding');
    super({ seed: o.seed });
    this.vocabSize = o.vocabSize;
    this.dim = o.dim;
    this.init = o.init ?? { uniform: 0.05 };
  }

  /** Ids of row shape S give vectors of row shape [...S, dim]. */
  inferShape(inputs: readonly RowShape[]): RowShape {
    if (inputs.length !== 1) {
      throw new MtlError('INVALID_ARGUMENT', `expects one input (ids), got ${inputs.length}`, {
        place: 'embedding',
      });
    }
    return [...inputs[0]!, this.dim];
  }

  protected paramSpecs(): ParamSpec[] {
    return [{ name: 'embeddings', shape: [this.vocabSize, this.dim], init: this.init }];
  }

  protected forward(inputs: tf.Tensor[]): tf.Tensor {
    if (inputs.length !== 1) {
      throw new MtlError('INVALID_ARGUMENT', `expects one input (ids), got ${inputs.length}`, {
        place: `module ${this.name}`,
      });
    }
    const ids = inputs[0]!;
    const flat = tf.reshape(ids.dtype === 'int32' ? ids : tf.cast(ids, 'int32'), [-1]);
    // Cast rather than oneHot's dtype argument, which the wasm backend ignores (int32 data results).
    const oneHot = tf.cast(tf.oneHot(flat as tf.Tensor1D, this.vocabSize), 'float32');
    const vectors = tf.matMul(oneHot, this.param('embeddings') as tf.Tensor2D);
    return tf.reshape(vectors, [...ids.shape, this.dim]);
  }

  getConfig(): ModuleConfig {
    return defined({
      type: this.type,
      vocabSize: this.vocabSize,
      dim: this.dim,
      init: this.init,
      seed: this.seed,
    });
  }

  static fromConfig(config: ModuleConfig): Embedding {
    const { type: _, ...options } = config;
    return new Embedding(options as EmbeddingOptions);
  }
}

/**
 * The `embedding` entry of the module registry.
 * @example
 * embeddingKind.create({ vocabSize: 1000, dim: 32 });
 */
export const embeddingKind = defineModuleKind({
  type: 'embedding',
  schema: embeddingSchema,
  description: 'A lookup table from integer ids to vectors.',
  create: (options) => new Embedding(options),
});

/**
 * An embedding table, differentiable on every backend (wasm included).
 * @example
 * const pool = { tokens: embedding({ vocabSize: 1000, dim: 32 }), pool: meanPool() };
 */
export function embedding(options: EmbeddingOptions): Embedding {
  return new Embedding(options);
}
