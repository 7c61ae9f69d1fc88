import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { Bernoulli } from './bernoulli.js';
import { Categorical } from './categorical.js';
import { adopt, type Distribution } from './distribution.js';
import { MixtureSameFamily } from './mixture-same-family.js';

/**
 * The posterior predictive p(y | x) ≈ (1/K) Σ_k p(y | z_k, w_k): an equal-weight mixture over the
 * K = L × M sampled (latent, classifier) pairs. Its mean is the prediction: for binary labels,
 * predict 1 when the predictive mean probability exceeds 0.5 — never by thresholding a few sampled labels.
 * @example
 * const pred = Predictive.fromSampleAxes(likelihood, [1, 2]);  // batch [T, L, M, B] -> [T, B], K = L·M
 * pred.probs();    // [T, B] predictive P(y = 1)
 * pred.predict();  // [T, B] int32 labels
 */
export class Predictive extends MixtureSameFamily {
  /** `components` has batch shape `[...S, K]`: K equally weighted samples per batch element. */
  constructor(components: Distribution) {
    const logits = tf.zeros(components.batchShape as number[]);
    super(logits, components);
    adopt(this, [logits]);
  }

  /**
   * Builds the predictive from a distribution whose batch axes `sampleAxes` index samples: those
   * axes are moved to the end and merged into one component axis.
   */
  static fromSampleAxes(dist: Distribution, sampleAxes: readonly number[]): Predictive {
    const rank = dist.batchShape.length;
    const axes = [...sampleAxes].sort((a, b) => a - b);
    if (
      axes.length === 0 ||
      axes.some((a, i) => !Number.isInteger(a) || a < 0 || a >= rank || axes[i - 1] === a)
    ) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `sampleAxes must be distinct batch axes in 0..${rank - 1}, got [${sampleAxes}]`,
        {
          place: 'Predictive.fromSampleAxes',
        },
      );
    }
    const keep = dist.batchShape.map((_, i) => i).filter((i) => !axes.includes(i));
    const K = axes.reduce((k, a) => k * dist.batchShape[a]!, 1);
    const batch = keep.map((i) => dist.batchShape[i]!);
    const merged = dist.mapBatch((p, trailing) => {
      const tail = p.shape.slice(rank);
      const perm = [...keep, ...axes, ...tail.map((_, i) => rank + i)];
      return tf.reshape(tf.transpose(p, perm), [...batch, K, ...p.shape.slice(p.rank - trailing)]);
    });
    return adopt(new Predictive(merged), [merged]);
  }

  /**
   * Predictive probabilities: P(y = 1) `[...S]` for Bernoulli components, class probabilities
   * `[...S, C]` for Categorical ones; otherwise the predictive mean.
   */
  probs(): tf.Tensor {
    return tf.tidy(() => {
      const c = this.components;
      if (c instanceof Bernoulli) return tf.mean(c.probs(), -1);
      if (c instanceof Categorical) return tf.mean(c.probs(), -2);
      return this.mean();
    });
  }

  /**
   * The prediction from the predictive mean: int32 labels (P > 0.5) for Bernoulli, int32 argmax
   * classes for Categorical, the mean otherwise.
   */
  predict(): tf.Tensor {
    return tf.tidy(() => {
      const c = this.components;
      if (c instanceof Bernoulli) return tf.cast(tf.greater(this.probs(), 0.5), 'int32');
      if (c instanceof Categorical) return tf.argMax(this.probs(), -1);
      return this.mean();
    });
  }
}
