import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Categorical } from './categorical.js';
import { take } from './internal/test-utils.js';

describe('Categorical', () => {
  it('log mass and entropy match hand computation', () => {
    tf.tidy(() => {
      const d = new Categorical(tf.tensor2d([[0, Math.log(2), Math.log(3)]]));
      expect(d.batchShape).toEqual([1]);
      expect(d.numClasses).toBe(3);
      expect(take(d.logProb(tf.tensor1d([2], 'int32')))[0]).toBeCloseTo(Math.log(0.5), 5);
      expect(take(d.probs())).toEqual([1 / 6, 2 / 6, 3 / 6].map((v) => expect.closeTo(v, 5)));
      const h = -[1 / 6, 1 / 3, 1 / 2].reduce((s, p) => s + p * Math.log(p), 0);
      expect(take(d.entropy())[0]).toBeCloseTo(h, 5);
      expect(() => d.mean()).toThrow(/not defined/);
    });
  });

  it('Gumbel-max samples follow the probabilities for any batch rank', () => {
    tf.tidy(() => {
      const d = new Categorical(tf.log(tf.tensor3d([[[0.1, 0.2, 0.7]], [[0.5, 0.25, 0.25]]])));
      const x = d.sample(20000, 8);
      expect(x.shape).toEqual([20000, 2, 1]);
      expect(x.dtype).toBe('int32');
      const freq = take(tf.mean(tf.oneHot(tf.reshape(x, [20000, 2]), 3), 0));
      [0.1, 0.2, 0.7, 0.5, 0.25, 0.25].forEach((p, i) => {
        expect(freq[i]).toBeCloseTo(p, 1);
      });
    });
  });
});
