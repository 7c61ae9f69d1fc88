import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Independent } from './independent.js';
import { take } from './internal/test-utils.js';
import { MixtureSameFamily } from './mixture-same-family.js';
import { Normal } from './normal.js';

const normalPdf = (x: number, m: number, s: number) =>
  Math.exp(-0.5 * ((x - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));

describe('MixtureSameFamily', () => {
  it('log density, mean and variance of a two-component Gaussian mixture', () => {
    tf.tidy(() => {
      const mix = new MixtureSameFamily(
        tf.log(tf.tensor1d([0.3, 0.7])),
        new Normal(tf.tensor1d([-1, 2]), tf.tensor1d([0.5, 1])),
      );
      expect(mix.batchShape).toEqual([]);
      const lp = take(mix.logProb(tf.tensor1d([0, 1.5])));
      [0, 1.5].forEach((x, i) => {
        expect(lp[i]).toBeCloseTo(Math.log(0.3 * normalPdf(x, -1, 0.5) + 0.7 * normalPdf(x, 2, 1)), 5);
      });
      const mean = 0.3 * -1 + 0.7 * 2;
      expect(take(mix.mean())[0]).toBeCloseTo(mean, 5);
      expect(take(mix.variance())[0]).toBeCloseTo(0.3 * (0.25 + 1) + 0.7 * (1 + 4) - mean ** 2, 4);
      const s = mix.sample(40000, 2);
      expect(s.shape).toEqual([40000]);
      expect(take(tf.mean(s))[0]).toBeCloseTo(mean, 1);
    });
  });

  it('works with event dimensions (Independent components) and batch axes', () => {
    tf.tidy(() => {
      // batch [2], K = 3 components over 2-vectors
      const comps = new Independent(new Normal(tf.randomNormal([2, 3, 2], 0, 1, 'float32', 1), 1), 1);
      const mix = new MixtureSameFamily(tf.zeros([2, 3]), comps);
      expect(mix.batchShape).toEqual([2]);
      expect(mix.eventShape).toEqual([2]);
      const x = mix.sample(5, 3);
      expect(x.shape).toEqual([5, 2, 2]);
      expect(mix.logProb(x).shape).toEqual([5, 2]);
      expect(mix.mean().shape).toEqual([2, 2]);
    });
  });

  it('rejects mixing logits whose shape does not match the components', () => {
    tf.tidy(() => {
      expect(() => new MixtureSameFamily(tf.zeros([3]), new Normal(tf.zeros([2]), 1))).toThrow(
        /mixing logits/,
      );
    });
  });
});
