import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Bernoulli } from './bernoulli.js';
import { take } from './internal/test-utils.js';

const sigmoid = (a: number) => 1 / (1 + Math.exp(-a));

describe('Bernoulli', () => {
  it('log mass, mean, variance and entropy match hand computation', () => {
    tf.tidy(() => {
      const d = new Bernoulli(tf.tensor1d([0, 2, -3]));
      const lp = take(d.logProb(tf.tensor1d([1, 0, 1])));
      expect(lp[0]).toBeCloseTo(Math.log(0.5), 5);
      expect(lp[1]).toBeCloseTo(Math.log(1 - sigmoid(2)), 5);
      expect(lp[2]).toBeCloseTo(Math.log(sigmoid(-3)), 5);
      const p = sigmoid(2);
      expect(take(d.mean())[1]).toBeCloseTo(p, 6);
      expect(take(d.variance())[1]).toBeCloseTo(p * (1 - p), 6);
      expect(take(d.entropy())[1]).toBeCloseTo(-p * Math.log(p) - (1 - p) * Math.log(1 - p), 5);
    });
  });

  it('is stable for extreme logits', () => {
    const lp = tf.tidy(() => take(new Bernoulli(tf.tensor1d([80, -80])).logProb(tf.tensor1d([0, 1]))));
    expect(lp[0]).toBeCloseTo(-80, 3);
    expect(lp[1]).toBeCloseTo(-80, 3);
  });

  it('samples 0/1 with the right frequency, reproducibly', () => {
    tf.tidy(() => {
      const d = Bernoulli.fromProbs(tf.tensor1d([0.2, 0.9]));
      const x = d.sample(20000, 3);
      expect(x.shape).toEqual([20000, 2]);
      const m = take(tf.mean(x, 0));
      expect(m[0]).toBeCloseTo(0.2, 1);
      expect(m[1]).toBeCloseTo(0.9, 1);
      expect(take(d.sample(5, 4))).toEqual(take(d.sample(5, 4)));
      expect(() => d.rsample(1, 0)).toThrow(/no reparameterised sampler/);
    });
  });
});
