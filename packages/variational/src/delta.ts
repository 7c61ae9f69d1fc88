import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { adopt, type BatchParamFn, Distribution } from './distribution.js';
import { range, type SampleShape, sampleShapeOf } from './internal/shapes.js';
import { mapParam } from './internal/tensors.js';

/**
 * Point mass at `value`; the last `eventRank` axes of `value` form the event. A deterministic
 * latent (z = f(x)) is a Delta: it has no KL divergence to anything, so a multitask ELBO whose
 * latent is a Delta simply has no latent KL term (there is no "KL of 0" between point masses).
 * @example
 * const z = new Delta(x, 1);          // x: [B, D] -> batch [B], event [D]
 * z.rsample(10, 0);                   // [10, B, D], gradient flows to x
 */
export class Delta extends Distribution {
  readonly value: tf.Tensor;
  readonly eventRank: number;
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[];
  readonly reparameterized = true;

  constructor(value: tf.Tensor, eventRank = 0) {
    super();
    if (!Number.isInteger(eventRank) || eventRank < 0 || eventRank > value.rank) {
      throw new MtlError('INVALID_ARGUMENT', `eventRank must be in 0..${value.rank}, got ${eventRank}`, {
        place: 'Delta',
      });
    }
    this.value = value;
    this.eventRank = eventRank;
    this.batchShape = value.shape.slice(0, value.rank - eventRank);
    this.eventShape = value.shape.slice(value.rank - eventRank);
  }

  override rsample(n: SampleShape, _seed: number): tf.Tensor {
    const shape = [...sampleShapeOf(n, 'Delta.rsample'), ...this.value.shape];
    return tf.broadcastTo(this.value, shape);
  }

  sample(n: SampleShape, seed: number): tf.Tensor {
    return this.rsample(n, seed);
  }

  /** 0 where `value` equals the point, -Infinity elsewhere. */
  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      let same: tf.Tensor = tf.equal(value, this.value);
      if (this.eventRank > 0) same = tf.all(same, range(same.rank - this.eventRank, same.rank));
      return tf.log(tf.cast(same, 'float32'));
    });
  }

  override mean(): tf.Tensor {
    return this.value.clone();
  }

  override variance(): tf.Tensor {
    return tf.zerosLike(this.value);
  }

  mapBatch(fn: BatchParamFn): Delta {
    const value = mapParam(this.value, this.batchShape, this.eventRank, fn);
    return adopt(new Delta(value, this.eventRank), [value]);
  }
}
