import { assertNoLeaks } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { fusedDense, maskedSoftmaxCrossEntropy } from './fused.js';
import { lossTerms, maskedMean } from './kinds.js';

function maxGap(a: tf.Tensor, b: tf.Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  expect(x.length).toBe(y.length);
  let gap = 0;
  for (let i = 0; i < x.length; i++)
    gap = Math.max(gap, Math.abs(x[i]! - y[i]!) / Math.max(1, Math.abs(y[i]!)));
  return gap;
}

/** Gradients in (x, kernel, bias) of Σ c ⊙ f(x, kernel, bias) for a fixed random c. */
function grads(f: (x: tf.Tensor, k: tf.Tensor, b: tf.Tensor) => tf.Tensor, shape: [number, number, number]) {
  const [rows, inputs, units] = shape;
  const x = tf.variable(tf.randomNormal([rows, inputs], 0, 1, 'float32', 1));
  const k = tf.variable(tf.randomNormal([inputs, units], 0, 1, 'float32', 2));
  const b = tf.variable(tf.randomNormal([units], 0, 1, 'float32', 3));
  const c = tf.randomNormal([rows, units], 0, 1, 'float32', 4);
  const { value, grads: g } = tf.variableGrads(() => tf.sum(tf.mul(c, f(x, k, b))) as tf.Scalar, [x, k, b]);
  const out = { value, dx: g[x.name]!, dk: g[k.name]!, db: g[b.name]! };
  tf.dispose([x, k, b, c]);
  return out;
}

describe('fusedDense', () => {
  // 64×64×16 is large enough for the wasm path that transposes explicitly; 32×8×4 keeps the flags.
  it.each<[string, [number, number, number]]>([
    ['relu', [32, 8, 4]],
    ['relu', [64, 64, 16]],
    ['linear', [32, 8, 4]],
    ['linear', [64, 64, 16]],
  ])('%s %j: value and gradients equal those of matMul + add (+ relu)', (activation, shape) => {
    const fused = grads((x, k, b) => fusedDense(x, k, b, activation)!, shape);
    const plain = grads((x, k, b) => {
      const z = tf.add(tf.matMul(x as tf.Tensor2D, k as tf.Tensor2D), b);
      return activation === 'relu' ? tf.relu(z) : z;
    }, shape);
    expect(fused.value.dataSync()[0]).toBe(plain.value.dataSync()[0]);
    expect(maxGap(fused.dx, plain.dx)).toBeLessThan(1e-5);
    expect(maxGap(fused.dk, plain.dk)).toBeLessThan(1e-5);
    expect(maxGap(fused.db, plain.db)).toBeLessThan(1e-5);
    tf.dispose([...Object.values(fused), ...Object.values(plain)]);
  });

  it('declines what it does not fuse: other activations, no bias, rank 3', () => {
    tf.tidy(() => {
      const x = tf.ones([2, 3]);
      const k = tf.ones([3, 4]);
      const b = tf.ones([4]);
      expect(fusedDense(x, k, b, 'tanh')).toBeUndefined();
      expect(fusedDense(x, k, undefined, 'relu')).toBeUndefined();
      expect(fusedDense(tf.ones([2, 2, 3]), k, b, 'relu')).toBeUndefined();
    });
  });

  it('leaves no tensors behind in a gradient step', async () => {
    const k = tf.variable(tf.ones([3, 2]));
    const b = tf.variable(tf.zeros([2]));
    const x = tf.ones([4, 3]);
    await assertNoLeaks(() => {
      const { value, grads: g } = tf.variableGrads(
        () => tf.sum(fusedDense(x, k, b, 'relu')!) as tf.Scalar,
        [k, b],
      );
      tf.dispose([value, ...Object.values(g)]);
    });
    tf.dispose([k, b, x]);
  });
});

describe('maskedSoftmaxCrossEntropy', () => {
  it('equals the unfused masked mean, with abstained rows, and has its gradient', () => {
    const labels = tf.tensor1d([0, 2, -1, 1, -1, 2], 'int32');
    const z = tf.variable(tf.randomNormal([6, 3], 0, 2, 'float32', 5));
    const fused = tf.variableGrads(
      () => maskedSoftmaxCrossEntropy(z as tf.Tensor as tf.Tensor2D, labels),
      [z],
    );
    const plain = tf.variableGrads(() => maskedMean(lossTerms('multiclass', z, labels, undefined, 't')), [z]);
    expect(fused.value.dataSync()[0]).toBeCloseTo(plain.value.dataSync()[0]!, 6);
    expect(maxGap(fused.grads[z.name]!, plain.grads[z.name]!)).toBeLessThan(1e-6);
    // Abstained rows get no gradient at all.
    const g = fused.grads[z.name]!.arraySync() as number[][];
    expect(g[2]).toEqual([0, 0, 0]);
    expect(g[4]).toEqual([0, 0, 0]);
    tf.dispose([
      labels,
      z,
      fused.value,
      plain.value,
      ...Object.values(fused.grads),
      ...Object.values(plain.grads),
    ]);
  });

  it('is +0 with a zero gradient when every row abstains', () => {
    const labels = tf.tensor1d([-1, -1], 'int32');
    const z = tf.variable(
      tf.tensor2d([
        [1, 2],
        [3, -4],
      ]),
    );
    const { value, grads: g } = tf.variableGrads(() => maskedSoftmaxCrossEntropy(z, labels), [z]);
    expect(Object.is(value.dataSync()[0], 0)).toBe(true);
    expect(Array.from(g[z.name]!.dataSync())).toEqual([0, 0, 0, 0]);
    tf.dispose([labels, z, value, ...Object.values(g)]);
  });
});
