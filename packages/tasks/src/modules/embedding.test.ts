import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { gradientGap } from '../test-utils.js';
import { embedding } from './embedding.js';

describe('embedding', () => {
  it('looks up rows; -1 (padding) gives zeros; [B, T] ids give [B, T, dim]', () => {
    const e = embedding({ vocabSize: 4, dim: 2 });
    e.build('tokens');
    tf.tidy(() => {
      e.setWeights({
        embeddings: tf.tensor2d([
          [0, 1],
          [2, 3],
          [4, 5],
          [6, 7],
        ]),
      });
      const y = e.apply([tf.tensor2d([[3, 0, -1]])], { training: false, seed: 0 }) as tf.Tensor;
      expect(y.shape).toEqual([1, 3, 2]);
      expect(Array.from(y.dataSync())).toEqual([6, 7, 0, 1, 0, 0]);
      const z = e.apply([tf.tensor1d([2, 1], 'int32')], { training: false, seed: 0 }) as tf.Tensor;
      expect(Array.from(z.dataSync())).toEqual([4, 5, 2, 3]);
    });
    e.dispose();
  });

  it(`is differentiable on the ${tf.getBackend()} backend (one-hot matmul, no gather), matching finite differences`, () => {
    const e = embedding({ vocabSize: 5, dim: 3, seed: 1 });
    e.build('emb_grad');
    const ids = tf.tensor2d([
      [0, 3, 3],
      [4, -1, 1],
    ]);
    const w = tf.randomNormal([2, 3, 3], 0, 1, 'float32', 4);
    const table = e.variables().embeddings!;
    const loss = () =>
      tf.sum(tf.mul(tf.square(e.apply([ids], { training: true, seed: 0 }) as tf.Tensor), w)) as tf.Scalar;
    expect(gradientGap(loss, table)).toBeLessThan(1e-2);
    // Row 2 is never looked up: its gradient is exactly zero.
    const { grads, value } = tf.variableGrads(loss, [table]);
    const g = grads[table.name]!.arraySync() as number[][];
    expect(g[2]).toEqual([0, 0, 0]);
    expect(Math.abs(g[3]![0]!)).toBeGreaterThan(0);
    tf.dispose([value, grads[table.name]!, ids, w]);
    e.dispose();
  });
});
