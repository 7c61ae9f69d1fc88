import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { Categorical } from './categorical.js';
import { adopt, type BatchParamFn, Distribution } from './distribution.js';
import { deriveSeed } from './internal/seeds.js';
import { range, type SampleShape, sameShape } from './internal/shapes.js';

/**
 * A mixture of K components of one family: `p(x) = Σ_k π_k p_k(x)`. The mixing weights are
 * logits `[...batch, K]` (softmax-normalised); the components have batch shape `[...batch, K]`.
 * Sampling draws a component per draw and then a value from it (not reparameterisable).
 * @example
 * const mix = new MixtureSameFamily(tf.zeros([2]), new Normal(tf.tensor1d([-1, 1]), 0.5));
 * mix.logProb(tf.scalar(0));   // log of the equal-weight mixture density at 0
 */
export class MixtureSameFamily extends Distribution {
  /** Mixing logits `[...batch, K]`. */
  readonly mixtureLogits: tf.Tensor;
  readonly components: Distribution;
  readonly numComponents: number;
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[];
  readonly reparameterized = false;

  constructor(mixture: tf.Tensor | Categorical, components: Distribution) {
    super();
    const logits = mixture instanceof Categorical ? mixture.logits : mixture;
    const cb = components.batchShape;
    if (cb.length < 1 || logits.rank < 1 || !sameShape(logits.shape, cb)) {
      throw new MtlError(
        'SHAPE_MISMATCH',
        `mixing logits [${logits.shape}] must have the components' batch shape [${cb}] (the last axis indexes components)`,
        { place: 'MixtureSameFamily' },
      );
    }
    this.mixtureLogits = logits;
    this.components = components;
    this.numComponents = cb[cb.length - 1]!;
    this.batchShape = cb.slice(0, -1);
    this.eventShape = components.eventShape;
  }

  /** Normalised mixing weights `[...batch, K]`. */
  weights(): tf.Tensor {
    return tf.softmax(this.mixtureLogits);
  }

  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const x = tf.expandDims(value, value.rank - this.eventShape.length);
      const lp = this.components.logProb(x);
      return tf.logSumExp(tf.add(lp, tf.logSoftmax(this.mixtureLogits)), -1);
    });
  }

  override mean(): tf.Tensor {
    return tf.tidy(() => this.weighted(this.components.mean()));
  }

  /** Law of total variance: Σ π (σ² + μ²) - (Σ π μ)². */
  override variance(): tf.Tensor {
    return tf.tidy(() => {
      const mu = this.components.mean();
      const m = this.weighted(mu);
      const second = this.weighted(tf.add(this.components.variance(), tf.square(mu)));
      return tf.sub(second, tf.square(m));
    });
  }

  sample(n: SampleShape, seed: number): tf.Tensor {
    return tf.tidy(() => {
      const which = new Categorical(this.mixtureLogits).sample(n, deriveSeed(seed, 0));
      const draws = this.components.sample(n, deriveSeed(seed, 1));
      const onehot = tf.oneHot(which, this.numComponents);
      const picked = this.weighted(tf.cast(draws, 'float32'), onehot);
      return draws.dtype === 'int32' ? tf.cast(tf.round(picked), 'int32') : picked;
    });
  }

  mapBatch(fn: BatchParamFn): MixtureSameFamily {
    const logits = tf.tidy(() => {
      const out = fn(this.mixtureLogits, 1);
      return out === this.mixtureLogits ? out.clone() : out;
    });
    const components = this.components.mapBatch((p, trailing) => fn(p, trailing + 1));
    return adopt(new MixtureSameFamily(logits, components), [logits, components]);
  }

  /** Σ_k w_k x_k over the component axis of `x` (`[..., K, ...event]`); `w` defaults to the mixing weights. */
  private weighted(x: tf.Tensor, w: tf.Tensor = tf.softmax(this.mixtureLogits)): tf.Tensor {
    const e = this.eventShape.length;
    const wx = e === 0 ? w : tf.reshape(w, [...w.shape, ...range(0, e).map(() => 1)]);
    return tf.sum(tf.mul(wx, x), x.rank - 1 - e);
  }
}
