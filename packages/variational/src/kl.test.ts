import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bernoulli } from './bernoulli.js';
import { Categorical } from './categorical.js';
import { Delta } from './delta.js';
import type { Distribution } from './distribution.js';
import { Independent } from './independent.js';
import { take } from './internal/test-utils.js';
import { hasClosedFormKl, klDivergence, monteCarloKl, registerKl } from './kl.js';
import { MixtureSameFamily } from './mixture-same-family.js';
import { Normal } from './normal.js';

const N = 100_000;

function closedVsMc(p: Distribution, q: Distribution, seed: number): { closed: number[]; mc: number[] } {
  return tf.tidy(() => ({ closed: take(klDivergence(p, q)), mc: take(monteCarloKl(p, q, N, seed)) }));
}

describe('closed-form KL', () => {
  it('Normal || Normal matches the formula and a 10^5-sample Monte Carlo estimate within 1%', () => {
    tf.tidy(() => {
      const p = new Normal(tf.tensor1d([0, 1, -2]), tf.tensor1d([1, 0.5, 2]));
      const q = new Normal(tf.tensor1d([1, -1, 0]), tf.tensor1d([2, 1, 0.7]));
      const { closed, mc } = closedVsMc(p, q, 1);
      // KL(N(0,1) || N(1,2)) = log 2 + (1 + 1)/8 - 1/2
      expect(closed[0]).toBeCloseTo(Math.log(2) + 0.25 - 0.5, 5);
      closed.forEach((c, i) => {
        expect(Math.abs(mc[i]! - c) / c).toBeLessThan(0.01);
      });
    });
  });

  it('Bernoulli || Bernoulli matches the formula and Monte Carlo within 1%', () => {
    tf.tidy(() => {
      const p = Bernoulli.fromProbs(tf.tensor1d([0.1, 0.85]));
      const q = Bernoulli.fromProbs(tf.tensor1d([0.9, 0.05]));
      const { closed, mc } = closedVsMc(p, q, 2);
      expect(closed[0]).toBeCloseTo(0.1 * Math.log(0.1 / 0.9) + 0.9 * Math.log(0.9 / 0.1), 4);
      closed.forEach((c, i) => {
        expect(Math.abs(mc[i]! - c) / c).toBeLessThan(0.01);
      });
    });
  });

  it('Categorical || Categorical matches the formula and Monte Carlo within 1%', () => {
    tf.tidy(() => {
      const pp = [0.7, 0.2, 0.1];
      const qq = [0.05, 0.15, 0.8];
      const p = new Categorical(tf.log(tf.tensor2d([pp, qq])));
      const q = new Categorical(tf.log(tf.tensor2d([qq, pp])));
      const { closed, mc } = closedVsMc(p, q, 3);
      expect(closed[0]).toBeCloseTo(
        pp.reduce((s, v, i) => s + v * Math.log(v / qq[i]!), 0),
        4,
      );
      closed.forEach((c, i) => {
        expect(Math.abs(mc[i]! - c) / c).toBeLessThan(0.01);
      });
    });
  });

  it('Independent of Normals sums the event axes and matches Monte Carlo within 1%', () => {
    tf.tidy(() => {
      const p = new Independent(
        new Normal(
          tf.tensor2d([
            [0, 1],
            [2, -1],
          ]),
          tf.tensor2d([
            [1, 0.5],
            [0.3, 2],
          ]),
        ),
        1,
      );
      const q = new Independent(
        new Normal(
          tf.tensor2d([
            [1, 0],
            [0, 0],
          ]),
          tf.tensor2d([
            [2, 1],
            [1, 1],
          ]),
        ),
        1,
      );
      expect(hasClosedFormKl(p, q)).toBe(true);
      const { closed, mc } = closedVsMc(p, q, 4);
      expect(closed).toHaveLength(2);
      const perAxis = take(klDivergence(p.base, q.base));
      expect(closed[0]).toBeCloseTo(perAxis[0]! + perAxis[1]!, 5);
      closed.forEach((c, i) => {
        expect(Math.abs(mc[i]! - c) / c).toBeLessThan(0.01);
      });
    });
  });

  it('broadcasts batch shapes: a [T, 1] posterior against [1, K] components gives the [T, K] matrix', () => {
    tf.tidy(() => {
      const q = new Normal(tf.tensor2d([[0], [1], [2]]), 1);
      const c = new Normal(tf.tensor2d([[0, 1, 2]]), 1);
      const m = take(klDivergence(q, c));
      // KL(N(a,1) || N(b,1)) = (a-b)²/2
      expect(m).toEqual([0, 0.5, 2, 0.5, 0, 0.5, 2, 0.5, 0].map((v) => expect.closeTo(v, 5)));
    });
  });
});

describe('KL laws (property tests)', () => {
  const real = (lo: number, hi: number) => fc.double({ min: lo, max: hi, noNaN: true });
  it('every KL is >= 0 and KL(p || p) = 0', () => {
    fc.assert(
      fc.property(real(-5, 5), real(-2, 2), real(-5, 5), real(-2, 2), (m1, s1, m2, s2) => {
        tf.tidy(() => {
          const p = Normal.fromLogScale(m1, s1);
          const q = Normal.fromLogScale(m2, s2);
          expect(take(klDivergence(p, q))[0]).toBeGreaterThanOrEqual(-1e-5);
          expect(Math.abs(take(klDivergence(p, p))[0]!)).toBeLessThan(1e-6);
          const b1 = new Bernoulli(tf.scalar(m1 * 2));
          const b2 = new Bernoulli(tf.scalar(m2 * 2));
          expect(take(klDivergence(b1, b2))[0]).toBeGreaterThanOrEqual(-1e-5);
          expect(Math.abs(take(klDivergence(b1, b1))[0]!)).toBeLessThan(1e-6);
        });
      }),
      { numRuns: 60, seed: 7 },
    );
    fc.assert(
      fc.property(
        fc.array(real(-6, 6), { minLength: 4, maxLength: 4 }),
        fc.array(real(-6, 6), { minLength: 4, maxLength: 4 }),
        (a, b) => {
          tf.tidy(() => {
            const p = new Categorical(tf.tensor1d(a));
            const q = new Categorical(tf.tensor1d(b));
            expect(take(klDivergence(p, q))[0]).toBeGreaterThanOrEqual(-1e-5);
            expect(Math.abs(take(klDivergence(p, p))[0]!)).toBeLessThan(1e-6);
          });
        },
      ),
      { numRuns: 40, seed: 8 },
    );
  });
});

describe('Monte Carlo fallback', () => {
  it('is used when no closed form exists, and needs samples and a seed', () => {
    tf.tidy(() => {
      const p = new Normal(0, 1);
      const q = new MixtureSameFamily(tf.zeros([2]), new Normal(tf.tensor1d([-1, 1]), 1));
      expect(hasClosedFormKl(p, q)).toBe(false);
      expect(() => klDivergence(p, q)).toThrow(/no closed-form KL/);
      expect(() => klDivergence(p, q, { samples: 10 })).toThrow(/needs a seed/);
      const kl = take(klDivergence(p, q, { samples: 10 * N, seed: 1 }))[0]!;
      // Numerical integration of p log(p/q) on a fine grid (= 1/2 - E[log cosh x]).
      let exact = 0;
      const pdf = (x: number, m: number) => Math.exp(-0.5 * (x - m) ** 2) / Math.sqrt(2 * Math.PI);
      for (let x = -10; x <= 10; x += 0.001) {
        const pp = pdf(x, 0);
        exact += pp * Math.log(pp / (0.5 * pdf(x, -1) + 0.5 * pdf(x, 1))) * 0.001;
      }
      expect(Math.abs(kl - exact) / exact).toBeLessThan(0.02);
    });
  });

  it('keeps the per-example batch shape and is differentiable through rsample', () => {
    tf.tidy(() => {
      const p = new Normal(tf.zeros([4, 3]), 1);
      const q = new Normal(tf.ones([4, 3]), 2);
      expect(monteCarloKl(p, q, 10, 1).shape).toEqual([4, 3]);
      const g = tf.grad((loc: tf.Tensor) => tf.sum(monteCarloKl(new Normal(loc, 1), q, 10, 1)))(
        tf.zeros([4, 3]),
      );
      expect(take(tf.sum(tf.abs(g)))[0]).toBeGreaterThan(0);
    });
  });

  it('a registered closed form wins and is looked up through subclasses', () => {
    class Wide extends Normal {}
    class Sentinel extends Bernoulli {}
    registerKl(Sentinel, Sentinel, () => tf.scalar(42));
    tf.tidy(() => {
      const s = new Sentinel(tf.scalar(0));
      expect(take(klDivergence(s, s))[0]).toBe(42);
      const w = new Wide(0, 1);
      expect(hasClosedFormKl(w, new Normal(0, 2))).toBe(true);
    });
  });

  it('a point mass has no KL, not a fake 0', () => {
    tf.tidy(() => {
      const d = new Delta(tf.tensor1d([1, 2]));
      expect(() => klDivergence(d, d)).toThrow(/point mass/);
      expect(() => monteCarloKl(d, new Normal(0, 1), 10, 1)).toThrow(/point mass/);
    });
  });
});
