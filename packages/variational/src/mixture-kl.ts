import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import type { Distribution } from './distribution.js';
import { Independent } from './independent.js';
import { klDivergence } from './kl.js';
import { Normal } from './normal.js';

/**
 * How KL(q || Σ_k π_k c_k) is computed:
 * - `upperBound`: Σ_k π_k KL(q || c_k), an upper bound (convexity of KL), closed form where the
 *   pairwise KLs are; the Python reference's choice.
 * - `monteCarlo`: the KL to the true mixture by sampling x ~ q, with log Σ_k π_k c_k(x) by
 *   log-sum-exp over components; unbiased, differentiable through reparameterised draws.
 * - `momentMatched`: KL(q || N(Σ_k π_k μ_k, Σ_k π_k² σ_k²)), one Gaussian in place of the mixture;
 *   the paper code's choice (q must be Normal or Independent(Normal)). Σ π_k² σ_k² is the variance
 *   of a weighted sum of independent draws, not of the mixture: below every σ_k² when the weights
 *   are spread, so with detached components each posterior chases a prior narrower than itself.
 * - `momentMatchedMixture`: KL(q || N(m, Σ_k π_k (σ_k² + μ_k²) − m²)), m = Σ_k π_k μ_k: the
 *   Gaussian with the mixture's own mean and variance (at least Σ π_k σ_k²).
 * @example
 * const estimator: MixtureKlEstimator = 'upperBound';
 */
export type MixtureKlEstimator = 'upperBound' | 'monteCarlo' | 'momentMatched' | 'momentMatchedMixture';

/**
 * The estimators, for validation and configs.
 * @example
 * MIXTURE_KL_ESTIMATORS.includes(name as MixtureKlEstimator);
 */
export const MIXTURE_KL_ESTIMATORS: readonly MixtureKlEstimator[] = [
  'upperBound',
  'monteCarlo',
  'momentMatched',
  'momentMatchedMixture',
];

/**
 * Options of {@link mixtureKl}.
 * @example
 * mixtureKl(q, comps, logits, { estimator: 'monteCarlo', samples: 10, seed: 7 });
 */
export interface MixtureKlOptions {
  estimator: MixtureKlEstimator;
  /** Draws for `monteCarlo` and for pairwise KLs without a closed form. */
  samples?: number;
  /** Seed for those draws. */
  seed?: number;
}

/**
 * KL(q || Σ_k π_k c_k) per batch element, by the chosen estimator. Shapes follow
 * {@link MixtureSameFamily}: `q` has batch shape S, `components` a batch shape broadcastable to
 * `[...S, K]` (the last batch axis indexes components), and `mixingLogits` (unnormalised log
 * weights, softmax-normalised over the last axis; a large negative logit excludes a component)
 * broadcastable to `[...S, K]`. Returns shape S: no batch axis is averaged.
 * @example
 * // task t's prior: the other tasks' posteriors q_i, weights softmax(alphaLogits[t])
 * const q = Normal.fromLogScale(loc, logScale);                  // batch [T]
 * const comps = q.mapBatch((p) => p.expandDims(0));               // batch [1, T]
 * mixtureKl(q, comps, alphaLogits, { estimator: 'upperBound' });   // [T]
 */
export function mixtureKl(
  q: Distribution,
  components: Distribution,
  mixingLogits: tf.Tensor,
  options: MixtureKlOptions,
): tf.Tensor {
  const S = q.batchShape.length;
  return tf.tidy(() => {
    // q with a component axis of size 1 at the end of its batch shape, to broadcast against the components.
    const qk = q.mapBatch((p, trailing) => tf.expandDims(p, p.rank - trailing));
    switch (options.estimator) {
      case 'upperBound': {
        const pairwise = klDivergence(qk, components, klOptions(options));
        return tf.sum(tf.mul(tf.softmax(mixingLogits), pairwise), S);
      }
      case 'monteCarlo': {
        const n = options.samples;
        if (n === undefined || options.seed === undefined) {
          throw new MtlError('INVALID_ARGUMENT', 'the monteCarlo estimator needs samples and a seed', {
            place: 'mixtureKl',
          });
        }
        const x = qk.reparameterized ? qk.rsample(n, options.seed) : qk.sample(n, options.seed);
        const logQ = tf.squeeze(qk.logProb(x), [S + 1]);
        const logMix = tf.logSumExp(tf.add(components.logProb(x), tf.logSoftmax(mixingLogits)), S + 1);
        return tf.mean(tf.sub(logQ, logMix), 0);
      }
      case 'momentMatched': {
        const e = components.eventShape.length;
        const w = tf.softmax(mixingLogits);
        const we = e === 0 ? w : tf.reshape(w, [...w.shape, ...new Array<number>(e).fill(1)]);
        const mean = tf.sum(tf.mul(we, components.mean()), S);
        const variance = tf.sum(tf.mul(tf.square(we), components.variance()), S);
        return klDivergence(q, gaussianLike(q, mean, tf.sqrt(variance)));
      }
      case 'momentMatchedMixture': {
        const e = components.eventShape.length;
        const w = tf.softmax(mixingLogits);
        const we = e === 0 ? w : tf.reshape(w, [...w.shape, ...new Array<number>(e).fill(1)]);
        const mu = components.mean();
        const mean = tf.sum(tf.mul(we, mu), S);
        const second = tf.sum(tf.mul(we, tf.add(components.variance(), tf.square(mu))), S);
        // Clamped: rounding may make E[x²] − m² a hair negative when the components coincide.
        const variance = tf.maximum(tf.sub(second, tf.square(mean)), 1e-12);
        return klDivergence(q, gaussianLike(q, mean, tf.sqrt(variance)));
      }
      default:
        throw new MtlError('CONFIG_INVALID', `unknown mixture-KL estimator "${String(options.estimator)}"`, {
          place: 'mixtureKl.estimator',
          details: { known: MIXTURE_KL_ESTIMATORS },
        });
    }
  });
}

function klOptions(options: MixtureKlOptions): { samples?: number; seed?: number } {
  const out: { samples?: number; seed?: number } = {};
  if (options.samples !== undefined) out.samples = options.samples;
  if (options.seed !== undefined) out.seed = options.seed;
  return out;
}

/** A Gaussian with the structure of `q` (Normal, or Independent(Normal) with the same reinterpreted axes). */
function gaussianLike(q: Distribution, loc: tf.Tensor, scale: tf.Tensor): Distribution {
  if (q instanceof Normal) return new Normal(loc, scale);
  if (q instanceof Independent)
    return new Independent(gaussianLike(q.base, loc, scale), q.reinterpretedBatchNdims);
  throw new MtlError(
    'INVALID_ARGUMENT',
    `the momentMatched estimator needs a Normal (or Independent Normal) posterior, got ${q.constructor.name}`,
    { place: 'mixtureKl' },
  );
}
