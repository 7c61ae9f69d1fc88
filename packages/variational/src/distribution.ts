import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import type { SampleShape } from './internal/shapes.js';

export type { SampleShape } from './internal/shapes.js';

interface Disposable {
  dispose(): void;
}

const owned = new WeakMap<Distribution, Disposable[]>();

/**
 * Hands tensors (or inner distributions) to `d`: `d.dispose()` frees them. For what a factory
 * derived for the distribution, never for what the caller still owns. Package-internal.
 */
export function adopt<D extends Distribution>(d: D, items: readonly Disposable[]): D {
  const list = owned.get(d);
  if (list) list.push(...items);
  else owned.set(d, [...items]);
  return d;
}

/**
 * Marks every tensor `d` owns (recursively through owned inner distributions) with `tf.keep`, so
 * that a distribution built inside `tf.tidy` survives it; free it later with `d.dispose()`.
 * Package-internal.
 */
export function keepOwned(d: Distribution): void {
  for (const item of owned.get(d) ?? []) {
    if (item instanceof Distribution) keepOwned(item);
    else tf.keep(item as tf.Tensor);
  }
}

/**
 * A function applied to every parameter tensor of a distribution by {@link Distribution.mapBatch}.
 * `param` is broadcast to its full shape: the distribution's batch shape followed by `trailing` axes
 * that are not batch axes (event axes, the class axis of a Categorical). The function must act on
 * the leading batch axes only and keep the trailing ones.
 * @example
 * const addAxis: BatchParamFn = (p, trailing) => tf.expandDims(p, p.rank - trailing);   // batch [T] -> [T, 1]
 */
export type BatchParamFn = (param: tf.Tensor, trailing: number) => tf.Tensor;

/**
 * A probability distribution over tfjs tensors with torch-style shape semantics: a value has shape
 * `sampleShape ++ batchShape ++ eventShape`; `logProb` sums over the event axes and returns
 * `sampleShape ++ batchShape`.
 *
 * Distributions are light views over their parameter tensors: build them inside `tf.tidy` (or
 * inside a loss) and let the tidy clean up; outside a tidy, `dispose()` frees the tensors the
 * distribution created itself (never the tensors you passed in).
 *
 * Every sampler takes an explicit seed: tfjs random ops restart from their seed on each call, so
 * pass a fresh one per step (`RandomStream.nextSeed()`).
 * @example
 * const d = new Normal(tf.zeros([3]), 1);
 * const x = d.rsample(10, 7);      // [10, 3], differentiable in loc and scale
 * const lp = d.logProb(x);         // [10, 3]
 */
export abstract class Distribution {
  /** Shape of independent (not necessarily identical) draws. */
  abstract readonly batchShape: readonly number[];
  /** Shape of one draw. */
  abstract readonly eventShape: readonly number[];
  /** True when {@link rsample} is reparameterised (gradients flow from samples to parameters). */
  abstract readonly reparameterized: boolean;

  /** Draws samples of shape `n ++ batchShape ++ eventShape`; no gradient flows through them. */
  abstract sample(n: SampleShape, seed: number): tf.Tensor;

  /** Reparameterised samples: gradients flow to the parameters. Throws where no reparameterisation exists. */
  rsample(_n: SampleShape, _seed: number): tf.Tensor {
    throw new MtlError('NOT_IMPLEMENTED', 'this distribution has no reparameterised sampler; use sample()', {
      place: `${this.constructor.name}.rsample`,
    });
  }

  /** Log density (or mass) of `value`, summed over the event axes: shape `sampleShape ++ batchShape`. */
  abstract logProb(value: tf.Tensor): tf.Tensor;

  /** Mean, shape `batchShape ++ eventShape`. */
  mean(): tf.Tensor {
    throw this.undefinedMoment('mean');
  }

  /** Variance, shape `batchShape ++ eventShape`. */
  variance(): tf.Tensor {
    throw this.undefinedMoment('variance');
  }

  /** Entropy, shape `batchShape`. */
  entropy(): tf.Tensor {
    throw this.undefinedMoment('entropy');
  }

  /**
   * A distribution of the same family whose parameters are `fn(param)`: reshape, slice, broadcast
   * or permute the batch axes; the event axes are left alone.
   */
  abstract mapBatch(fn: BatchParamFn): Distribution;

  /** Frees the tensors this distribution created (derived parameters), never the ones passed in. */
  dispose(): void {
    for (const t of owned.get(this) ?? []) {
      if (!(t instanceof Object && 'isDisposed' in t && t.isDisposed)) t.dispose();
    }
    owned.delete(this);
  }

  protected own<T extends tf.Tensor>(t: T): T {
    adopt(this, [t]);
    return t;
  }

  private undefinedMoment(what: string): MtlError {
    return new MtlError(
      'NOT_IMPLEMENTED',
      `${what} is not defined (or has no closed form) for this distribution`,
      {
        place: `${this.constructor.name}.${what}`,
      },
    );
  }
}
