import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { gradientGap } from '../test-utils.js';
import { layerNorm } from './layer-norm.js';

describe('layerNorm', () => {
  it('normalises the last axis, then scales and shifts', () => {
    const ln = layerNorm({ size: 3, epsilon: 0 });
    ln.build('norm');
    tf.tidy(() => {
      // mean 2, variance 2/3: (x - 2) / sqrt(2/3) = [-1.2247, 0, 1.2247]
      const y = ln.apply([tf.tensor2d([[1, 2, 3]])], { training: false, seed: 0 }) as tf.Tensor;
      const s = Math.sqrt(1.5);
      Array.from(y.dataSync()).forEach((v, i) => {
        expect(v).toBeCloseTo([-s, 0, s][i]!, 5);
      });
      ln.setWeights({ gamma: tf.tensor1d([2, 2, 2]), beta: tf.tensor1d([1, 0, -1]) });
      const z = ln.apply([tf.tensor2d([[1, 2, 3]])], { training: false, seed: 0 }) as tf.Tensor;
      Array.from(z.dataSync()).forEach((v, i) => {
        expect(v).toBeCloseTo([1 - 2 * s, 0, 2 * s - 1][i]!, 5);
      });
    });
    ln.dispose();
  });

  it('has the gradient of its formula (finite differences)', () => {
    const ln = layerNorm({ size: 4 });
    ln.build('norm_g');
    const x = tf.tensor2d([
      [0.5, -1, 2, 0.1],
      [1, 1.5, -0.3, 0.7],
    ]);
    const w = tf.tensor2d([
      [1, -2, 0.5, 3],
      [0.2, 1, -1, 0.4],
    ]);
    const gamma = ln.variables().gamma!;
    tf.tidy(() => ln.setWeights({ gamma: tf.tensor1d([1.5, 0.5, -1, 2]) }));
    const loss = () =>
      tf.sum(tf.mul(ln.apply([x], { training: false, seed: 0 }) as tf.Tensor, w)) as tf.Scalar;
    expect(gradientGap(loss, gamma)).toBeLessThan(1e-2);
    tf.dispose([x, w]);
    ln.dispose();
  });
});
