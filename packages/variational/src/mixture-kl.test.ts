import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Bernoulli } from './bernoulli.js';
import { Independent } from './independent.js';
import { take } from './internal/test-utils.js';
import { klDivergence } from './kl.js';
import { mixtureKl } from './mixture-kl.js';
import { Normal } from './normal.js';

const pdf = (x: number, m: number, s: number) =>
  Math.exp(-0.5 * ((x - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));

// q = N(0, 1); components N(-1, 1), N(1, 1), N(3, 0.5) with weights 0.2, 0.8, 0 (the last excluded by a -1e9 logit).
const weights = [0.2, 0.8, 0];
const comps = [
  [-1, 1],
  [1, 1],
  [3, 0.5],
] as const;

function exactMixtureKl(): number {
  let kl = 0;
  const h = 0.001;
  for (let x = -10; x <= 10; x += h) {
    const p = pdf(x, 0, 1);
    const m = comps.reduce((s, [mu, sd], k) => s + weights[k]! * pdf(x, mu, sd), 0);
    kl += p * Math.log(p / m) * h;
  }
  return kl;
}

function setup() {
  const q = new Normal(tf.tensor1d([0]), 1);
  const c = new Normal(tf.tensor2d([comps.map((x) => x[0])]), tf.tensor2d([comps.map((x) => x[1])]));
  const logits = tf.tensor2d([[Math.log(0.2), Math.log(0.8), -1e9]]);
  return { q, c, logits };
}

describe('mixtureKl', () => {
  it('upperBound is Σ_k π_k KL(q || c_k), and bounds the true mixture KL from above', () => {
    tf.tidy(() => {
      const { q, c, logits } = setup();
      const ub = take(mixtureKl(q, c, logits, { estimator: 'upperBound' }))[0]!;
      // KL(N(0,1) || N(m,1)) = m²/2
      expect(ub).toBeCloseTo(0.2 * 0.5 + 0.8 * 0.5, 5);
      expect(ub).toBeGreaterThan(exactMixtureKl());
    });
  });

  it('monteCarlo estimates the KL to the true mixture (log-sum-exp over components)', () => {
    tf.tidy(() => {
      const { q, c, logits } = setup();
      const mc = take(mixtureKl(q, c, logits, { estimator: 'monteCarlo', samples: 1_000_000, seed: 5 }))[0]!;
      const exact = exactMixtureKl();
      expect(Math.abs(mc - exact) / exact).toBeLessThan(0.02);
    });
  });

  it('momentMatched is KL(q || N(Σ π μ, Σ π² σ²))', () => {
    tf.tidy(() => {
      const { q, c, logits } = setup();
      const mm = take(mixtureKl(q, c, logits, { estimator: 'momentMatched' }))[0]!;
      const m = 0.2 * -1 + 0.8 * 1;
      const v = 0.04 * 1 + 0.64 * 1;
      const expected = 0.5 * (1 / v + (m * m) / v - 1 + Math.log(v));
      expect(mm).toBeCloseTo(expected, 5);
    });
  });

  it('momentMatchedMixture is KL(q || N(m, Σ π (σ² + μ²) − m²)): the mixture mean and variance', () => {
    tf.tidy(() => {
      const { q, c, logits } = setup();
      const mm = take(mixtureKl(q, c, logits, { estimator: 'momentMatchedMixture' }))[0]!;
      const m = 0.2 * -1 + 0.8 * 1; // 0.6
      const v = 0.2 * (1 + 1) + 0.8 * (1 + 1) - m * m; // 2 − 0.36 = 1.64
      expect(mm).toBeCloseTo(0.5 * (1 / v + (m * m) / v - 1 + Math.log(v)), 5);
      // Two equal components: the mixture is that component, whose variance the paper code's
      // Σ π² σ² halves (1/2 at π = 1/2); this one keeps it.
      const same = new Normal(tf.tensor2d([[0.5, 0.5]]), tf.tensor2d([[2, 2]]));
      const half = tf.tensor2d([[0, 0]]);
      const q2 = new Normal(tf.tensor1d([0.5]), 2);
      expect(take(mixtureKl(q2, same, half, { estimator: 'momentMatchedMixture' }))[0]!).toBeCloseTo(0, 5);
      const paper = take(mixtureKl(q2, same, half, { estimator: 'momentMatched' }))[0]!;
      expect(paper).toBeCloseTo(0.5 * (2 - 1 + Math.log(0.5)), 5); // KL(N(μ, σ²) || N(μ, σ²/2))
    });
  });

  it('keeps per-example shapes: latent-style [T, B] posteriors against [T, B, K] components', () => {
    tf.tidy(() => {
      const T = 3;
      const B = 4;
      const q = new Independent(new Normal(tf.randomNormal([T, B, 2], 0, 1, 'float32', 1), 1), 1);
      const c = new Independent(new Normal(tf.randomNormal([T, B, T, 2], 0, 1, 'float32', 2), 0.8), 1);
      const logits = tf.reshape(tf.randomNormal([T, T], 0, 1, 'float32', 3), [T, 1, T]);
      for (const estimator of ['upperBound', 'monteCarlo', 'momentMatched'] as const) {
        const kl = mixtureKl(q, c, logits, { estimator, samples: 8, seed: 4 });
        expect(kl.shape).toEqual([T, B]);
      }
      // upperBound by hand for one entry.
      const pair = take(
        klDivergence(
          q.mapBatch((p, tr) => tf.expandDims(p, p.rank - tr)),
          c,
        ),
      );
      const w = take(tf.softmax(logits));
      const ub = take(mixtureKl(q, c, logits, { estimator: 'upperBound' }));
      const t = 1;
      const b = 2;
      let expected = 0;
      for (let k = 0; k < T; k++) expected += w[t * T + k]! * pair[(t * B + b) * T + k]!;
      expect(ub[t * B + b]).toBeCloseTo(expected, 5);
    });
  });

  it('momentMatched needs a Gaussian posterior; an unknown estimator is a config error', () => {
    tf.tidy(() => {
      const p = new Bernoulli(tf.tensor1d([0]));
      const c = new Bernoulli(tf.tensor2d([[0, 1]]));
      expect(() => mixtureKl(p, c, tf.zeros([1, 2]), { estimator: 'momentMatched' })).toThrow(/Normal/);
      expect(() => mixtureKl(p, c, tf.zeros([1, 2]), { estimator: 'exact' as never })).toThrow(
        /unknown mixture-KL estimator/,
      );
      expect(() => mixtureKl(p, c, tf.zeros([1, 2]), { estimator: 'monteCarlo' })).toThrow(
        /samples and a seed/,
      );
      // Bernoulli mixtures work with the other estimators.
      expect(
        mixtureKl(p, c, tf.zeros([1, 2]), { estimator: 'monteCarlo', samples: 10, seed: 1 }).shape,
      ).toEqual([1]);
    });
  });
});
