import { MtlError, type RandomStream, stopGradient } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { Independent } from './independent.js';
import { type MixtureKlEstimator, mixtureKl } from './mixture-kl.js';
import { Normal } from './normal.js';

/**
 * A KL weight: a number, a linear ramp (`from` → `to` over `steps` steps after `delay`; the
 * paper code anneals from 0), or a function of the training step.
 * @example
 * const w: KlAnneal = { kind: 'linear', from: 0, to: 1, steps: 500 };
 */
export type KlAnneal =
  | number
  | { kind: 'linear'; from?: number; to?: number; steps: number; delay?: number }
  | ((step: number) => number);

/**
 * A {@link KlAnneal} as a function of the step (checked: finite and >= 0).
 * @example
 * klAnnealing({ kind: 'linear', steps: 100 })(50);   // 0.5
 */
export function klAnnealing(spec: KlAnneal, place = 'klWeight'): (step: number) => number {
  const check = (v: number, at: string) => {
    if (!(v >= 0) || !Number.isFinite(v)) {
      throw new MtlError('INVALID_ARGUMENT', `KL weight must be a finite number >= 0, got ${v}`, {
        place: at,
      });
    }
    return v;
  };
  if (typeof spec === 'number') {
    check(spec, place);
    return () => spec;
  }
  if (typeof spec === 'function') return (step) => check(spec(step), `${place} at step ${step}`);
  if (spec === null || typeof spec !== 'object' || spec.kind !== 'linear') {
    throw new MtlError(
      'CONFIG_INVALID',
      'a KL weight is a number, {kind: linear, steps, from?, to?, delay?} or a function',
      { place },
    );
  }
  const from = check(spec.from ?? 0, `${place}.from`);
  const to = check(spec.to ?? 1, `${place}.to`);
  const delay = spec.delay ?? 0;
  if (!Number.isInteger(spec.steps) || spec.steps < 1) {
    throw new MtlError('INVALID_ARGUMENT', `steps must be an integer >= 1, got ${spec.steps}`, {
      place: `${place}.steps`,
    });
  }
  if (!Number.isInteger(delay) || delay < 0) {
    throw new MtlError('INVALID_ARGUMENT', `delay must be an integer >= 0, got ${delay}`, {
      place: `${place}.delay`,
    });
  }
  return (step) => from + (to - from) * Math.min(1, Math.max(0, step - delay) / spec.steps);
}

/** One task's trunk features and integer labels in a step, for the sameClass latent prior. */
export interface Peer {
  h: tf.Tensor;
  labels: Int32Array;
}

/**
 * For each label of `want`, the index of a row of `have` with that label (drawn uniformly among
 * them by `rng`), or -1 when `have` has none.
 * @example
 * sameClassRows(Int32Array.of(0, 2), Int32Array.of(2, 0, 0), new RandomStream(1)); // [1 or 2, 0]
 */
export function sameClassRows(want: Int32Array, have: Int32Array, rng: RandomStream): number[] {
  const byClass = new Map<number, number[]>();
  have.forEach((y, j) => {
    const list = byClass.get(y) ?? [];
    list.push(j);
    byClass.set(y, list);
  });
  return Array.from(want, (y) => {
    const list = byClass.get(y);
    return list === undefined ? -1 : list[Math.min(list.length - 1, Math.floor(rng.next() * list.length))]!;
  });
}

/**
 * KL(N(loc, exp(logScale)²) || N(0, I)) in closed form, summed over `axis` (default: all axes).
 * @example
 * standardNormalKl(tf.zeros([2, 3]), tf.zeros([2, 3]), -1); // [0, 0]
 */
export function standardNormalKl(loc: tf.Tensor, logScale: tf.Tensor, axis?: number): tf.Tensor {
  return tf.mul(
    0.5,
    tf.sum(tf.sub(tf.add(tf.exp(tf.mul(2, logScale)), tf.square(loc)), tf.add(1, tf.mul(2, logScale))), axis),
  );
}

/**
 * How {@link mixturePriorKl} builds a prior from the other tasks' posteriors.
 * @example
 * const options: MixturePriorOptions = { eventRank: 1, detach: true, estimator: 'momentMatched', samples: 10, seed: 3 };
 */
export interface MixturePriorOptions {
  /** Axes of one draw (1: a latent row `[Z]`; 2: a classifier `[D + 1, K]`). */
  eventRank: number;
  /** Cut gradients into the components (the paper code's choice). */
  detach: boolean;
  estimator: MixtureKlEstimator;
  samples: number;
  seed: number;
  /** Weight λ of an N(0, I) component: λ·N(0, I) + (1 − λ)·mixture (default 0: none). */
  standardWeight?: number;
}

/**
 * KL(q || Σ_k π_k c_k) of a Gaussian posterior q (`loc`, `logScale`) to the mixture of Gaussian
 * components `compLoc`/`compScale` (a component axis just before the event axes) with weights
 * softmax(`logits`), by the chosen estimator; one value per batch element of q.
 * @example
 * // task t's classifier prior: the T posteriors stacked [T, D + 1, K], the diagonal masked in the logits
 * mixturePriorKl(loc, logScale, locs, scales, alphaRow, { eventRank: 2, detach: true, estimator: 'upperBound', samples: 10, seed: 1 });
 */
export function mixturePriorKl(
  loc: tf.Tensor,
  logScale: tf.Tensor,
  compLoc: tf.Tensor,
  compScale: tf.Tensor,
  logits: tf.Tensor,
  options: MixturePriorOptions,
): tf.Tensor {
  const q = new Independent(Normal.fromLogScale(loc, logScale), options.eventRank);
  let locs = compLoc;
  let scales = compScale;
  if (options.detach) {
    locs = stopGradient(locs);
    scales = stopGradient(scales);
  }
  let mixing = logits;
  const w0 = options.standardWeight ?? 0;
  if (w0 > 0) {
    const axis = locs.rank - options.eventRank - 1;
    const shape = locs.shape.map((d, i) => (i === axis ? 1 : d));
    locs = tf.concat([tf.zeros(shape), locs], axis);
    scales = tf.concat([tf.zeros(shape), scales], axis);
    mixing = tf.concat([tf.tensor1d([Math.log(w0)]), tf.add(tf.logSoftmax(mixing), Math.log(1 - w0))]);
  }
  const components = new Independent(Normal.fromLogScale(locs, scales), options.eventRank);
  return mixtureKl(q, components, mixing, {
    estimator: options.estimator,
    samples: options.samples,
    seed: options.seed,
  });
}
