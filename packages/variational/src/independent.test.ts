import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Independent } from './independent.js';
import { take } from './internal/test-utils.js';
import { Normal } from './normal.js';

describe('Independent', () => {
  it('reinterprets trailing batch axes as event axes and sums over them', () => {
    tf.tidy(() => {
      const base = new Normal(
        tf.zeros([3, 2]),
        tf.tensor2d([
          [1, 2],
          [1, 2],
          [1, 2],
        ]),
      );
      const d = new Independent(base, 1);
      expect(d.batchShape).toEqual([3]);
      expect(d.eventShape).toEqual([2]);
      const x = tf.tensor2d([
        [0.5, -1],
        [0, 0],
        [1, 1],
      ]);
      const expected = take(tf.sum(base.logProb(x), 1));
      expect(take(d.logProb(x))).toEqual(expected.map((v) => expect.closeTo(v, 5)));
      expect(take(d.entropy())[0]).toBeCloseTo(1 + Math.log(2 * Math.PI) + Math.log(2), 5);
      expect(d.rsample(4, 1).shape).toEqual([4, 3, 2]);
      expect(d.mean().shape).toEqual([3, 2]);
    });
  });

  it('mapBatch acts on the outer batch axes only', () => {
    tf.tidy(() => {
      const d = new Independent(new Normal(tf.zeros([3, 2]), 1), 1);
      const e = d.mapBatch((p, trailing) => tf.expandDims(p, p.rank - trailing));
      expect(e.batchShape).toEqual([3, 1]);
      expect(e.eventShape).toEqual([2]);
    });
  });

  it('rejects more reinterpreted axes than the base has', () => {
    tf.tidy(() => {
      expect(() => new Independent(new Normal(tf.zeros([2]), 1), 2)).toThrow(/reinterpretedBatchNdims/);
    });
  });
});
