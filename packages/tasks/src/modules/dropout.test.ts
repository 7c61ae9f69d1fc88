import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { dropout } from './dropout.js';

describe('dropout', () => {
  it('zeroes about `rate` of the values and scales the rest by 1 / (1 - rate), reproducibly', () => {
    const a = dropout({ rate: 0.25 });
    a.build('drop_a');
    const b = dropout({ rate: 0.25 });
    b.build('drop_b');
    tf.tidy(() => {
      const x = tf.ones([100, 100]);
      const ya = Array.from((a.apply([x], { training: true, seed: 7 }) as tf.Tensor).dataSync());
      const zeros = ya.filter((v) => v === 0).length / ya.length;
      expect(zeros).toBeGreaterThan(0.23);
      expect(zeros).toBeLessThan(0.27);
      for (const v of ya) expect(v === 0 || Math.abs(v - 4 / 3) < 1e-6).toBe(true);
      expect(Array.from((a.apply([x], { training: true, seed: 7 }) as tf.Tensor).dataSync())).toEqual(ya);
      // Another module draws another mask from the same step seed.
      expect(Array.from((b.apply([x], { training: true, seed: 7 }) as tf.Tensor).dataSync())).not.toEqual(ya);
      expect(Array.from((a.apply([x], { training: false, seed: 7 }) as tf.Tensor).dataSync())).toEqual(
        new Array(10000).fill(1),
      );
    });
    expect(a.trainableVariables()).toEqual([]);
    expect(a.getConfig()).toEqual({ type: 'dropout', rate: 0.25 });
    a.dispose();
    b.dispose();
  });
});
