import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { meanPool } from './mean-pool.js';

describe('meanPool', () => {
  it('averages over time, counting only unmasked positions', () => {
    const p = meanPool();
    p.build('pool');
    tf.tidy(() => {
      const x = tf.tensor3d([
        [
          [1, 10],
          [3, 30],
          [100, 100],
        ],
        [
          [2, 4],
          [6, 8],
          [10, 12],
        ],
      ]);
      const mask = tf.tensor2d([
        [1, 1, 0],
        [0, 0, 0],
      ]);
      expect(Array.from((p.apply([x, mask], { training: false, seed: 0 }) as tf.Tensor).dataSync())).toEqual([
        2, 20, 0, 0,
      ]);
      const plain = Array.from((p.apply([x], { training: false, seed: 0 }) as tf.Tensor).dataSync());
      expect(plain[2]).toBeCloseTo(6, 5);
      expect(() => p.apply([tf.zeros([2, 3])], { training: false, seed: 0 })).toThrow(/expects \[values/);
    });
    p.dispose();
  });
});
