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

  it('log p of -1 (or any id outside [0, C)) is 0 with no gradient, as @mtl/core softmax cross-entropy rules', () => {
    const logits = tf.variable(
      tf.tensor2d([
        [0.5, -1, 2],
        [1, 1, 0],
      ]),
    );
    const ids = tf.tensor2d(
      [
        [2, -1],
        [3, 0],
      ],
      [2, 2],
      'int32',
    ); // [S = 2, B = 2]
    const { value, grads } = tf.variableGrads(
      () => tf.sum(new Categorical(logits).logProb(ids)) as tf.Scalar,
      [logits],
    );
    const lp = (z: number[], k: number) => z[k]! - Math.log(z.reduce((s, v) => s + Math.exp(v), 0));
    expect(value.dataSync()[0]).toBeCloseTo(lp([0.5, -1, 2], 2) + lp([1, 1, 0], 0), 5);
    const g = grads[logits.name]!.arraySync() as number[][];
    // Row 0 is labeled once (id 2; id 3 abstains), row 1 once (id 0; -1 abstains): d/dz = onehot - softmax.
    const softmax = (z: number[]) => z.map((v) => Math.exp(v) / z.reduce((s, u) => s + Math.exp(u), 0));
    softmax([0.5, -1, 2]).forEach((p, c) => {
      expect(g[0]![c]).toBeCloseTo((c === 2 ? 1 : 0) - p, 5);
    });
    softmax([1, 1, 0]).forEach((p, c) => {
      expect(g[1]![c]).toBeCloseTo((c === 0 ? 1 : 0) - p, 5);
    });
    tf.dispose([logits, ids, value, ...Object.values(grads)]);
  });
});
