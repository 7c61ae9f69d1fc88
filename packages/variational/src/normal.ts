import { MtlError, stopGradient } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { adopt, type BatchParamFn, Distribution } from './distribution.js';
import { broadcastShapes, type SampleShape, sampleShapeOf } from './internal/shapes.js';
import { broadcastTo, mapParam } from './internal/tensors.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Normal distribution with location `loc` and scale `scale` (standard deviation), both broadcast
 * to the batch shape; the event is a scalar (wrap in {@link Independent} for a diagonal Gaussian).
 * Build it from a log-scale with {@link Normal.fromLogScale} for an unconstrained parameter.
 * @example
 * const q = Normal.fromLogScale(tf.zeros([2]), tf.zeros([2]));   // N(0, 1) twice
 * const w = q.rsample(10, 3);                                       // [10, 2]
 */
export class Normal extends Distribution {
  readonly loc: tf.Tensor;
  readonly scale: tf.Tensor;
  /** log(scale), kept so that densities and KLs never take the log of an exponential. */
  readonly logScale: tf.Tensor;
  readonly batchShape: readonly number[];
  readonly eventShape: readonly number[] = [];
  readonly reparameterized = true;

  /**
   * @param loc location, broadcast against the scale
   * @param scale standard deviation (> 0), or `{ logScale }` for the unconstrained parametrisation
   *   (pass `scale` too when you already have `exp(logScale)`, to save an op).
   */
  constructor(
    loc: tf.Tensor | number,
    scale: tf.Tensor | number | { logScale: tf.Tensor | number; scale?: tf.Tensor },
  ) {
    super();
    this.loc = typeof loc === 'number' ? this.own(tf.scalar(loc)) : loc;
    if (typeof scale === 'number' || scale instanceof tf.Tensor) {
      if (typeof scale === 'number' && !(scale > 0)) {
        throw new MtlError('INVALID_ARGUMENT', `scale must be > 0, got ${scale}`, { place: 'Normal' });
      }
      this.scale = typeof scale === 'number' ? this.own(tf.scalar(scale)) : scale;
      this.logScale = this.own(tf.log(this.scale));
    } else {
      const ls = scale.logScale;
      this.logScale = typeof ls === 'number' ? this.own(tf.scalar(ls)) : ls;
      this.scale = scale.scale ?? this.own(tf.exp(this.logScale));
    }
    this.batchShape = broadcastShapes(this.loc.shape, this.logScale.shape, 'Normal');
  }

  /** N(loc, exp(logScale)): the parametrisation to train, since any real log-scale is valid. */
  static fromLogScale(loc: tf.Tensor | number, logScale: tf.Tensor | number): Normal {
    return new Normal(loc, { logScale });
  }

  override rsample(n: SampleShape, seed: number): tf.Tensor {
    const shape = [...sampleShapeOf(n, 'Normal.rsample'), ...this.batchShape];
    return tf.tidy(() => {
      const eps = tf.randomNormal(shape, 0, 1, 'float32', seed);
      return tf.add(this.loc, tf.mul(this.scale, eps));
    });
  }

  sample(n: SampleShape, seed: number): tf.Tensor {
    return stopGradient(this.rsample(n, seed));
  }

  logProb(value: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const z = tf.div(tf.sub(value, this.loc), this.scale);
      return tf.sub(tf.mul(tf.square(z), -0.5), tf.add(this.logScale, HALF_LOG_2PI));
    });
  }

  override mean(): tf.Tensor {
    return tf.tidy(() => broadcastTo(this.loc, this.batchShape).clone());
  }

  override variance(): tf.Tensor {
    return tf.tidy(() => broadcastTo(tf.square(this.scale), this.batchShape));
  }

  override entropy(): tf.Tensor {
    return tf.tidy(() => broadcastTo(tf.add(this.logScale, 0.5 + HALF_LOG_2PI), this.batchShape));
  }

  mapBatch(fn: BatchParamFn): Normal {
    const full = (t: tf.Tensor) => mapParam(t, this.batchShape, 0, fn);
    const loc = full(this.loc);
    const logScale = full(this.logScale);
    const scale = full(this.scale);
    return adopt(new Normal(loc, { logScale, scale }), [loc, logScale, scale]);
  }
}
