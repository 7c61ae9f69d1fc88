import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Bernoulli } from './bernoulli.js';
import { Categorical } from './categorical.js';
import { take } from './internal/test-utils.js';
import { Normal } from './normal.js';
import { Predictive } from './predictive.js';
import { stackDistributions } from './stack.js';

describe('Predictive', () => {
  it('merges the sample axes into one equal-weight component axis', () => {
    tf.tidy(() => {
      // batch [T=2, L=2, M=3, B=1]: logits chosen so each (t, b) has a known average probability.
      const logits = tf.reshape(tf.range(0, 12), [2, 2, 3, 1]);
      const pred = Predictive.fromSampleAxes(new Bernoulli(tf.sub(logits, 6)), [1, 2]);
      expect(pred.batchShape).toEqual([2, 1]);
      expect(pred.numComponents).toBe(6);
      const sig = (a: number) => 1 / (1 + Math.exp(-a));
      const expected = [0, 1].map((t) => [0, 1, 2, 3, 4, 5].reduce((s, k) => s + sig(t * 6 + k - 6), 0) / 6);
      expect(take(pred.probs())).toEqual(expected.map((v) => expect.closeTo(v, 5)));
      expect(take(pred.mean())).toEqual(expected.map((v) => expect.closeTo(v, 5)));
      // log p(y) of the mixture = log of the average component probability.
      expect(take(pred.logProb(tf.tensor2d([[1], [0]])))).toEqual(
        [Math.log(expected[0]!), Math.log(1 - expected[1]!)].map((v) => expect.closeTo(v, 4)),
      );
      expect(take(pred.predict())).toEqual(expected.map((p) => (p > 0.5 ? 1 : 0)));
    });
  });

  it('averages class probabilities for Categorical components and the mean for Normal ones', () => {
    tf.tidy(() => {
      const cat = new Categorical(
        tf.log(
          tf.tensor3d([
            [
              [0.6, 0.4],
              [0.2, 0.8],
            ],
          ]),
        ),
      ); // batch [1, 2], K = 2
      const pc = new Predictive(cat);
      expect(take(pc.probs())).toEqual([0.4, 0.6].map((v) => expect.closeTo(v, 5)));
      expect(take(pc.predict())).toEqual([1]);
      const pn = new Predictive(new Normal(tf.tensor2d([[1, 3]]), 1));
      expect(take(pn.predict())).toEqual([2]);
      expect(take(pn.variance())[0]).toBeCloseTo(2, 5);
    });
  });

  it('rejects sample axes that are not batch axes', () => {
    tf.tidy(() => {
      expect(() => Predictive.fromSampleAxes(new Bernoulli(tf.zeros([2, 3])), [2])).toThrow(/sampleAxes/);
    });
  });
});

describe('stackDistributions', () => {
  it('stacks one family along a new batch axis', () => {
    tf.tidy(() => {
      const a = new Normal(tf.tensor1d([1, 2]), 0.5);
      const b = new Normal(tf.tensor1d([3, 4]), 2);
      const s = stackDistributions([a, b]);
      expect(s.batchShape).toEqual([2, 2]);
      expect(take((s as Normal).scale)).toEqual([0.5, 0.5, 2, 2]);
      const s1 = stackDistributions([a, b], 1);
      expect(take((s1 as Normal).loc)).toEqual([1, 3, 2, 4]);
      expect(() => stackDistributions([a, new Bernoulli(tf.zeros([2]))])).toThrow(/distribution 1/);
    });
  });
});
