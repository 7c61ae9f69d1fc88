import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { adopt, type BatchParamFn, Distribution } from './distribution.js';
import { range, type SampleShape } from './internal/shapes.js';

/**
 * Reinterprets the last `reinterpretedBatchNdims` batch axes of `base` as event axes, so that
 * `logProb` and `entropy` sum over them: `Independent(Normal(loc [T, D], scale), 1)` is a diagonal
 * Gaussian over D-vectors with batch shape [T].
 * @example
 * const q = new Independent(Normal.fromLogScale(loc, logScale), 1);   // batch [T], event [D]
 * q.logProb(q.rsample(5, 1));                                          // [5, T]
 */
export class Independent extends Distribution {
  readonly base: Distribution;
  readonly reinterpretedBatchNdims: number;
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[];
  readonly reparameterized: boolean;

  constructor(base: Distribution, reinterpretedBatchNdims = 1) {
    super();
    const n = reinterpretedBatchNdims;
    if (!Number.isInteger(n) || n < 0 || n > base.batchShape.length) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `reinterpretedBatchNdims must be in 0..${base.batchShape.length} (the base batch rank), got ${n}`,
        { place: 'Independent' },
      );
    }
    this.base = base;
    this.reinterpretedBatchNdims = n;
    const cut = base.batchShape.length - n;
    this.batchShape = base.batchShape.slice(0, cut);
    this.eventShape = [...base.batchShape.slice(cut), ...base.eventShape];
    this.reparameterized = base.reparameterized;
  }

  sample(n: SampleShape, seed: number): tf.Tensor {
    return this.base.sample(n, seed);
  }

  override rsample(n: SampleShape, seed: number): tf.Tensor {
    return this.base.rsample(n, seed);
  }

  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.sumReinterpreted(this.base.logProb(value)));
  }

  override mean(): tf.Tensor {
    return this.base.mean();
  }

  override variance(): tf.Tensor {
    return this.base.variance();
  }

  override entropy(): tf.Tensor {
    return tf.tidy(() => this.sumReinterpreted(this.base.entropy()));
  }

  mapBatch(fn: BatchParamFn): Independent {
    const n = this.reinterpretedBatchNdims;
    const base = this.base.mapBatch((p, trailing) => fn(p, trailing + n));
    return adopt(new Independent(base, n), [base]);
  }

  /** Sums the reinterpreted axes, the last `n` axes of a `... ++ base batch` tensor. */
  sumReinterpreted(x: tf.Tensor): tf.Tensor {
    const n = this.reinterpretedBatchNdims;
    return n === 0 ? x : tf.sum(x, range(x.rank - n, x.rank));
  }
}
