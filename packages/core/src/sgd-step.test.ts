import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { BatchSource, Trainable } from './contracts.js';
import { sgdStep } from './sgd-step.js';

describe('sgdStep', () => {
  it('moves the variables by −lr·∇(Σ parts) on the first batch, and gives the batch back to the source', () => {
    const before = tf.memory().numTensors;
    const init = tf.tensor1d([1, -2]);
    const w = tf.variable(init, true, 'sgd-step/w');
    init.dispose();
    const seen: number[][] = [];
    const disposed: tf.Tensor[] = [];
    // loss parts: a = Σ w·x, b = 0.5·Σ w² (∇ = x + w).
    const trainable: Trainable<tf.Tensor> = {
      trainableVariables: () => [w],
      loss: (x) => ({ parts: { 'a/d': tf.sum(tf.mul(w, x)), 'b/d': tf.mul(0.5, tf.sum(tf.square(w))) } }),
    };
    const source: BatchSource<tf.Tensor> = {
      batchesPerEpoch: () => 2,
      *epoch() {
        for (const row of [
          [3, 4],
          [5, 6],
        ]) {
          seen.push(row);
          yield tf.tensor1d(row);
        }
      },
      dispose: (x) => {
        disposed.push(x);
        x.dispose();
      },
    };
    sgdStep(trainable, source, { lr: 0.5 });
    // w − 0.5·(x + w) with x = [3, 4]: [1 − 2, −2 − 1].
    expect(Array.from(w.dataSync())).toEqual([-1, -3]);
    expect(seen).toEqual([[3, 4]]); // only the first step is drawn
    expect(disposed).toHaveLength(1);
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
