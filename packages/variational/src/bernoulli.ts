import * as tf from '@tensorflow/tfjs';
import { adopt, type BatchParamFn, Distribution } from './distribution.js';
import { type SampleShape, sampleShapeOf } from './internal/shapes.js';
import { mapParam } from './internal/tensors.js';

/**
 * Bernoulli distribution over {0, 1} parametrised by logits (log-odds). Values are float32 0/1.
 * @example
 * const b = new Bernoulli(tf.tensor1d([0, 2]));
 * b.logProb(tf.tensor1d([1, 0]));   // [log σ(0), log(1 - σ(2))]
 * b.mean();                         // σ(logits)
 */
export class Bernoulli extends Distribution {
  readonly logits: tf.Tensor;
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[] = [];
  readonly reparameterized = false;

  constructor(logits: tf.Tensor) {
    super();
    this.logits = logits;
    this.batchShape = logits.shape;
  }

  /** From probabilities in (0, 1). */
  static fromProbs(probs: tf.Tensor): Bernoulli {
    const logits = tf.tidy(() => tf.sub(tf.log(probs), tf.log1p(tf.neg(probs))));
    return adopt(new Bernoulli(logits), [logits]);
  }

  /** P(x = 1). */
  probs(): tf.Tensor {
    return tf.sigmoid(this.logits);
  }

  sample(n: SampleShape, seed: number): tf.Tensor {
    const shape = [...sampleShapeOf(n, 'Bernoulli.sample'), ...this.batchShape];
    return tf.tidy(() =>
      tf.cast(tf.less(tf.randomUniform(shape, 0, 1, 'float32', seed), tf.sigmoid(this.logits)), 'float32'),
    );
  }

  /** log p(x) = -softplus((1 - 2x) · logits), exact for x in {0, 1} and stable for any logits. */
  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const sign = tf.sub(1, tf.mul(2, tf.cast(value, 'float32')));
      return tf.neg(tf.softplus(tf.mul(sign, this.logits)));
    });
  }

  override mean(): tf.Tensor {
    return tf.sigmoid(this.logits);
  }

  override variance(): tf.Tensor {
    return tf.tidy(() => {
      const p = tf.sigmoid(this.logits);
      return tf.mul(p, tf.sub(1, p));
    });
  }

  /** H = softplus(l) - σ(l)·l. */
  override entropy(): tf.Tensor {
    return tf.tidy(() => tf.sub(tf.softplus(this.logits), tf.mul(tf.sigmoid(this.logits), this.logits)));
  }

  mapBatch(fn: BatchParamFn): Bernoulli {
    const logits = mapParam(this.logits, this.batchShape, 0, fn);
    return adopt(new Bernoulli(logits), [logits]);
  }
}
