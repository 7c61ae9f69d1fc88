import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import type { Initializer } from '../internal/init.js';
import { BaseModule, type ModuleConfig, type ParamSpec } from '../module.js';
import { checkInit, checkInt, defined, optionalSeed } from '../module-options.js';
import type { RowShape } from '../shape-inference.js';

/**
 * Options of {@link embedding}.
 * @example
 * const options: EmbeddingOptions = { vocabSize: 1000, dim: 32 };
 */
export interface EmbeddingOptions {
  /** Number of ids; ids outside [0, vocabSize) (e.g. -1 padding) map to a zero vector. */
  vocabSize: number;
  dim: number;
  /** Default `{uniform: 0.05}` (as Keras). */
  init?: Initializer;
  seed?: number;
}

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
    const place = 'embedding';
    super({ seed: optionalSeed(options.seed, place) });
    this.vocabSize = checkInt(options.vocabSize, 'vocabSize', place);
    this.dim = checkInt(options.dim, 'dim', place);
    this.init = checkInit(options.init ?? { uniform: 0.05 }, 'init', place);
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
    return new Embedding(config as unknown as EmbeddingOptions);
  }
}

/**
 * An embedding table, differentiable on every backend (wasm included).
 * @example
 * const pool = { tokens: embedding({ vocabSize: 1000, dim: 32 }), pool: meanPool() };
 */
export function embedding(options: EmbeddingOptions): Embedding {
  return new Embedding(options);
}
