import { MtlError } from '@mtl/core';
import { softmaxCrossEntropyRows } from '@mtl/core/ops';
import * as tf from '@tensorflow/tfjs';
import { adopt, type BatchParamFn, Distribution } from './distribution.js';
import { type SampleShape, sampleShapeOf } from './internal/shapes.js';
import { mapParam } from './internal/tensors.js';

/**
 * Categorical distribution over class ids 0..C-1, parametrised by unnormalised logits `[...batch, C]`.
 * Samples are int32 ids (drawn with the Gumbel-max trick, so any batch rank works).
 * @example
 * const c = new Categorical(tf.tensor2d([[0, 1, 2]]));
 * c.logProb(tf.tensor1d([2], 'int32'));   // [log softmax(logits)[2]]
 * c.probs();                              // [[0.09, 0.24, 0.67]]
 */
export class Categorical extends Distribution {
  readonly logits: tf.Tensor;
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[] = [];
  readonly reparameterized = false;
  /** Number of classes. */
  readonly numClasses: number;

  constructor(logits: tf.Tensor) {
    super();
    if (logits.rank < 1) {
      throw new MtlError('SHAPE_MISMATCH', 'logits need a class axis (rank >= 1)', { place: 'Categorical' });
    }
    this.logits = logits;
    this.batchShape = logits.shape.slice(0, -1);
    this.numClasses = logits.shape[logits.rank - 1]!;
  }

  /** Class probabilities `[...batch, C]`. */
  probs(): tf.Tensor {
    return tf.softmax(this.logits);
  }

  /** Normalised log-probabilities `[...batch, C]`. */
  logProbs(): tf.Tensor {
    return tf.logSoftmax(this.logits);
  }

  sample(n: SampleShape, seed: number): tf.Tensor {
    const shape = [...sampleShapeOf(n, 'Categorical.sample'), ...this.logits.shape];
    return tf.tidy(() => {
      const u = tf.randomUniform(shape, 1e-7, 1 - 1e-7, 'float32', seed);
      const gumbel = tf.neg(tf.log(tf.neg(tf.log(u))));
      return tf.argMax(tf.add(this.logits, gumbel), -1);
    });
  }

  /**
   * log p(k) for int class ids `k` of shape `sampleShape ++ batchShape`: minus @mtl/core's softmax
   * cross-entropy, with its rule for ids outside `[0, C)`: -1 (and any other such id) abstains,
   * giving 0 and no gradient.
   */
  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.neg(softmaxCrossEntropyRows(this.logits, value)));
  }

  override entropy(): tf.Tensor {
    return tf.tidy(() => {
      const logp = tf.logSoftmax(this.logits);
      return tf.neg(tf.sum(tf.mul(tf.exp(logp), logp), -1));
    });
  }

  mapBatch(fn: BatchParamFn): Categorical {
    const logits = mapParam(this.logits, this.batchShape, 1, fn);
    return adopt(new Categorical(logits), [logits]);
  }
}
