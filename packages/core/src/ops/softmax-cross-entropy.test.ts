import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { assertNoLeaks } from '../tensors.js';
import { checkGradients } from './check-gradients.js';
import { labeledRows, softmaxCrossEntropy, softmaxCrossEntropyRows } from './softmax-cross-entropy.js';

/** −log softmax(z)[y] in float64, by hand. */
function crossEntropy(z: number[], y: number): number {
  const max = Math.max(...z);
  const sum = z.reduce((s, v) => s + Math.exp(v - max), 0);
  return Math.log(sum) + max - z[y]!;
}

const Z = [
  [1.5, -0.5, 0.25],
  [0.1, 2, -1],
  [-2, 0.5, 1],
  [3, -1, 0],
  [0, 0, 0.5],
];

/** The plain composition the fused op replaces: autodiff of log softmax, one-hot targets, masked mean. */
function reference(z: tf.Tensor, labels: tf.Tensor): tf.Tensor {
  const t = tf.cast(tf.oneHot(tf.cast(labels, 'int32'), z.shape[1]!), 'float32');
  const rows = tf.neg(tf.sum(tf.mul(t, tf.logSoftmax(z)), 1));
  return tf.div(tf.sum(rows), tf.maximum(tf.sum(t), 1));
}

describe('softmaxCrossEntropy', () => {
  it('is the mean of −log p(label) over rows with an id in [0, C): -1 and other outside ids abstain, uncounted', () => {
    const z = tf.tensor2d(Z);
    const labels = tf.tensor1d([0, -1, 2, 7, 1], 'int32');
    const loss = softmaxCrossEntropy(z, labels);
    const expected = (crossEntropy(Z[0]!, 0) + crossEntropy(Z[2]!, 2) + crossEntropy(Z[4]!, 1)) / 3;
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 6);
    tf.dispose([z, labels, loss]);
  });

  it('has its gradient (finite differences and autodiff of the plain composition); abstained rows get none', async () => {
    const z = tf.tensor2d(Z);
    const labels = tf.tensor1d([0, -1, 2, 7, 1], 'int32');
    await assertNoLeaks(() => {
      const check = checkGradients((z, y) => softmaxCrossEntropy(z as tf.Tensor2D, y!), [z, labels], {
        reference,
      });
      expect(check.failures).toEqual([]);
      expect(check.inputs.map((i) => i.index)).toEqual([0]);
      const g = check.inputs[0]!.analytic;
      // Rows 1 (-1) and 3 (7, out of range) abstain: no gradient at all.
      expect(Array.from(g.slice(3, 6), Math.abs)).toEqual([0, 0, 0]);
      expect(Array.from(g.slice(9, 12), Math.abs)).toEqual([0, 0, 0]);
      expect(g.slice(0, 3).some((v) => v !== 0)).toBe(true);
    });
    tf.dispose([z, labels]);
  });

  it('takes float ids like int32 ones', () => {
    const z = tf.tensor2d(Z);
    const ids = tf.tensor1d([0, -1, 2, 1, 1], 'int32');
    const floats = tf.tensor1d([0, -1, 2, 1, 1], 'float32');
    const [a, b] = [softmaxCrossEntropy(z, ids), softmaxCrossEntropy(z, floats)];
    expect(b.dataSync()[0]).toBeCloseTo(a.dataSync()[0]!, 6);
    tf.dispose([z, ids, floats, a, b]);
  });

  it('is +0 with a zero gradient when every row abstains', () => {
    const labels = tf.tensor1d([-1, -1], 'int32');
    const z = tf.variable(
      tf.tensor2d([
        [1, 2],
        [3, -4],
      ]),
    );
    const { value, grads: g } = tf.variableGrads(() => softmaxCrossEntropy(z, labels), [z]);
    expect(Object.is(value.dataSync()[0], 0)).toBe(true);
    expect(Array.from(g[z.name]!.dataSync())).toEqual([0, 0, 0, 0]);
    tf.dispose([labels, z, value, ...Object.values(g)]);
  });

  it('soft labels: the mean of −Σ t·log p over rows without a negative entry, with its gradient', () => {
    const z = tf.tensor2d(Z);
    const T = [
      [0.5, 0.5, 0],
      [-1, -1, -1],
      [0, 0, 1],
      [0.2, 0.3, 0.5],
      [-1, -1, -1],
    ];
    const t = tf.tensor2d(T);
    const loss = softmaxCrossEntropy(z, t);
    const soft = (r: number) => T[r]!.reduce((s, p, c) => s + p * crossEntropy(Z[r]!, c), 0);
    expect(loss.dataSync()[0]).toBeCloseTo((soft(0) + soft(2) + soft(3)) / 3, 6);
    const check = checkGradients((z, y) => softmaxCrossEntropy(z as tf.Tensor2D, y!), [z, t], { wrt: [0] });
    expect(check.failures).toEqual([]);
    expect(Array.from(check.inputs[0]!.analytic.slice(3, 6), Math.abs)).toEqual([0, 0, 0]);
    tf.dispose([z, t, loss]);
  });
});

describe('softmaxCrossEntropyRows and labeledRows', () => {
  it('per row: −log p(label), 0 for abstained rows (-1 or outside [0, C)); labeledRows marks the counted ones', () => {
    tf.tidy(() => {
      const z = tf.tensor2d(Z);
      const labels = tf.tensor1d([0, -1, 2, 3, 1], 'int32');
      const rows = Array.from(softmaxCrossEntropyRows(z, labels).dataSync());
      expect(rows[0]).toBeCloseTo(crossEntropy(Z[0]!, 0), 6);
      expect(Math.abs(rows[1]!)).toBe(0);
      expect(rows[2]).toBeCloseTo(crossEntropy(Z[2]!, 2), 6);
      expect(Math.abs(rows[3]!)).toBe(0);
      expect(rows[4]).toBeCloseTo(crossEntropy(Z[4]!, 1), 6);
      expect(Array.from(labeledRows(labels, 3).dataSync())).toEqual([1, 0, 1, 0, 1]);
      // Their masked mean is the fused op's value.
      const mean = tf.div(tf.sum(softmaxCrossEntropyRows(z, labels)), tf.sum(labeledRows(labels, 3)));
      expect(mean.dataSync()[0]).toBeCloseTo(softmaxCrossEntropy(z, labels).dataSync()[0]!, 6);
    });
  });

  it('broadcasts ids [S, B] against logits [B, C], with the gradient of autodiff', () => {
    const z = tf.tensor2d(Z.slice(0, 2));
    const ids = tf.tensor2d(
      [
        [0, 2],
        [1, -1],
        [2, 1],
      ],
      [3, 2],
      'int32',
    );
    const rows = softmaxCrossEntropyRows(z, ids);
    expect(rows.shape).toEqual([3, 2]);
    const v = rows.arraySync() as number[][];
    expect(v[1]![0]).toBeCloseTo(crossEntropy(Z[0]!, 1), 6);
    expect(Math.abs(v[1]![1]!)).toBe(0);
    expect(v[2]![1]).toBeCloseTo(crossEntropy(Z[1]!, 1), 6);
    const check = checkGradients((z, y) => softmaxCrossEntropyRows(z!, y!), [z, ids]);
    expect(check.failures).toEqual([]);
    tf.dispose([z, ids, rows]);
  });
});
