import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { Delta } from './delta.js';
import { take } from './internal/test-utils.js';

describe('Delta', () => {
  it('is a point mass over its event axes', () => {
    tf.tidy(() => {
      const v = tf.tensor2d([
        [1, 2],
        [3, 4],
      ]);
      const d = new Delta(v, 1);
      expect(d.batchShape).toEqual([2]);
      expect(d.eventShape).toEqual([2]);
      expect(
        take(
          d.logProb(
            tf.tensor2d([
              [1, 2],
              [3, 5],
            ]),
          ),
        ),
      ).toEqual([0, -Infinity]);
      expect(d.rsample(3, 0).shape).toEqual([3, 2, 2]);
      expect(take(d.mean())).toEqual([1, 2, 3, 4]);
      expect(take(d.variance())).toEqual([0, 0, 0, 0]);
      expect(() => d.entropy()).toThrow(/not defined/);
    });
  });

  it('rsample passes gradients to the point', () => {
    const g = tf.tidy(() =>
      take(tf.grad((v: tf.Tensor) => tf.sum(new Delta(v).rsample(3, 0)))(tf.tensor1d([1, 2]))),
    );
    expect(g).toEqual([3, 3]);
  });

  it('rejects an event rank beyond the value rank', () => {
    const v = tf.tensor1d([1]);
    expect(() => new Delta(v, 2)).toThrow(/eventRank/);
    v.dispose();
  });
});
