import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { Bernoulli } from './bernoulli.js';
import { Categorical } from './categorical.js';
import { Delta } from './delta.js';
import type { Distribution } from './distribution.js';
import { Independent } from './independent.js';
import { Normal } from './normal.js';

// biome-ignore lint/suspicious/noExplicitAny: constructors of any distribution class, whatever their arguments
type DistributionClass<D extends Distribution> = abstract new (...args: any[]) => D;

/**
 * A closed-form KL(p || q), broadcasting over the batch shapes of p and q.
 * @example
 * const kl: KlFunction<Normal, Normal> = (p, q) => tf.sub(q.logScale, p.logScale);   // (not the real formula)
 */
export type KlFunction<P extends Distribution, Q extends Distribution> = (p: P, q: Q) => tf.Tensor;

const registry = new Map<
  DistributionClass<Distribution>,
  Map<DistributionClass<Distribution>, KlFunction<never, never>>
>();

/**
 * Registers a closed-form KL(p || q) for a pair of distribution classes. Lookups walk both class
 * hierarchies (most specific pair first), so subclasses inherit their parents' formulas.
 * @example
 * registerKl(MyDist, Normal, (p, q) => ...);   // returns KL with shape broadcast(p.batch, q.batch)
 */
export function registerKl<P extends Distribution, Q extends Distribution>(
  pClass: DistributionClass<P>,
  qClass: DistributionClass<Q>,
  fn: KlFunction<P, Q>,
): void {
  let row = registry.get(pClass);
  if (!row) {
    row = new Map();
    registry.set(pClass, row);
  }
  row.set(qClass, fn as KlFunction<never, never>);
}

function lookup(p: Distribution, q: Distribution): KlFunction<Distribution, Distribution> | undefined {
  for (let pc = Object.getPrototypeOf(p); pc && pc !== Object.prototype; pc = Object.getPrototypeOf(pc)) {
    const row = registry.get(pc.constructor);
    if (!row) continue;
    for (let qc = Object.getPrototypeOf(q); qc && qc !== Object.prototype; qc = Object.getPrototypeOf(qc)) {
      const fn = row.get(qc.constructor);
      if (fn) return fn as KlFunction<Distribution, Distribution>;
    }
  }
  return undefined;
}

/**
 * True when KL(p || q) has a registered closed form for this pair.
 * @example
 * hasClosedFormKl(new Normal(0, 1), new Normal(1, 1));   // true
 */
export function hasClosedFormKl(p: Distribution, q: Distribution): boolean {
  if (p instanceof Independent && q instanceof Independent) {
    return p.reinterpretedBatchNdims === q.reinterpretedBatchNdims && hasClosedFormKl(p.base, q.base);
  }
  return lookup(p, q) !== undefined;
}

/**
 * Options of {@link klDivergence}.
 * @example
 * klDivergence(p, q, { samples: 1000, seed: rng.nextSeed() });
 */
export interface KlOptions {
  /** Number of samples for the Monte Carlo fallback (used only when no closed form exists). */
  samples?: number;
  /** Seed of the Monte Carlo fallback; required with `samples`. */
  seed?: number;
}

/**
 * KL(p || q) with shape `broadcast(p.batchShape, q.batchShape)`: the registered closed form when
 * there is one, else a Monte Carlo estimate when `samples` and `seed` are given, else an error.
 * A point mass (Delta) has no KL divergence to anything: asking for one is an error, never a 0.
 * @example
 * klDivergence(new Normal(0, 1), new Normal(1, 2));                        // closed form
 * klDivergence(p, q, { samples: 1000, seed: 7 });                          // falls back to sampling
 */
export function klDivergence(p: Distribution, q: Distribution, options: KlOptions = {}): tf.Tensor {
  rejectPointMass(p, q);
  if (hasClosedFormKl(p, q)) return closedForm(p, q);
  if (options.samples !== undefined) {
    if (options.seed === undefined) {
      throw new MtlError('INVALID_ARGUMENT', 'a Monte Carlo KL needs a seed', { place: 'klDivergence' });
    }
    return monteCarloKl(p, q, options.samples, options.seed);
  }
  throw new MtlError(
    'NOT_IMPLEMENTED',
    `no closed-form KL(${describe(p)} || ${describe(q)}); pass { samples, seed } for a Monte Carlo estimate or registerKl one`,
    { place: 'klDivergence' },
  );
}

function closedForm(p: Distribution, q: Distribution): tf.Tensor {
  if (p instanceof Independent && q instanceof Independent && lookup(p, q) === undefined) {
    return tf.tidy(() => p.sumReinterpreted(closedForm(p.base, q.base)));
  }
  return (lookup(p, q) as KlFunction<Distribution, Distribution>)(p, q);
}

/**
 * Monte Carlo KL(p || q) ≈ mean over `samples` draws x ~ p of log p(x) - log q(x). Keeps the full
 * per-example shape `broadcast(p.batchShape, q.batchShape)`: only the sample axis is averaged,
 * never a batch axis. Uses reparameterised draws when p has them, so the estimate is differentiable.
 * @example
 * monteCarloKl(p, q, 100_000, 1);   // ≈ klDivergence(p, q) for Normals, same shape
 */
export function monteCarloKl(p: Distribution, q: Distribution, samples: number, seed: number): tf.Tensor {
  rejectPointMass(p, q);
  if (!Number.isInteger(samples) || samples < 1) {
    throw new MtlError('INVALID_ARGUMENT', `samples must be a positive integer, got ${samples}`, {
      place: 'monteCarloKl',
    });
  }
  return tf.tidy(() => {
    const x = p.reparameterized ? p.rsample(samples, seed) : p.sample(samples, seed);
    return tf.mean(tf.sub(p.logProb(x), q.logProb(x)), 0);
  });
}

function rejectPointMass(p: Distribution, q: Distribution): void {
  if (isPointMass(p) || isPointMass(q)) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      'KL divergence involving a point mass (Delta) is not defined; a deterministic latent has no KL term',
      { place: 'klDivergence' },
    );
  }
}

/**
 * True for a Delta, or an Independent wrapping one: a deterministic value, which has no KL term.
 * @example
 * isPointMass(new Independent(new Delta(x, 1), 1));   // true
 */
export function isPointMass(d: Distribution): boolean {
  return d instanceof Delta || (d instanceof Independent && isPointMass(d.base));
}

function describe(d: Distribution): string {
  return d instanceof Independent ? `Independent(${describe(d.base)})` : d.constructor.name;
}

registerKl(Normal, Normal, (p: Normal, q: Normal) =>
  tf.tidy(() => {
    // KL = ½ (r² + ((μp-μq)/σq)² - 1) - log r, with r = σp/σq.
    const logRatio = tf.sub(p.logScale, q.logScale);
    const ratio2 = tf.exp(tf.mul(logRatio, 2));
    const dist2 = tf.square(tf.div(tf.sub(p.loc, q.loc), q.scale));
    return tf.sub(tf.mul(tf.add(ratio2, tf.sub(dist2, 1)), 0.5), logRatio);
  }),
);

registerKl(Bernoulli, Bernoulli, (p: Bernoulli, q: Bernoulli) =>
  tf.tidy(() => {
    // With log σ(l) = -softplus(-l): KL = π (sp(-lq) - sp(-lp)) + (1-π)(sp(lq) - sp(lp)).
    const prob = tf.sigmoid(p.logits);
    const one = tf.mul(prob, tf.sub(tf.softplus(tf.neg(q.logits)), tf.softplus(tf.neg(p.logits))));
    const zero = tf.mul(tf.sub(1, prob), tf.sub(tf.softplus(q.logits), tf.softplus(p.logits)));
    return tf.add(one, zero);
  }),
);

registerKl(Categorical, Categorical, (p: Categorical, q: Categorical) =>
  tf.tidy(() => {
    const lp = tf.logSoftmax(p.logits);
    const lq = tf.logSoftmax(q.logits);
    return tf.sum(tf.mul(tf.exp(lp), tf.sub(lp, lq)), -1);
  }),
);
