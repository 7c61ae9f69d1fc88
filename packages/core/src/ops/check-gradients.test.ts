import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { assertNoLeaks } from '../tensors.js';
import { checkGradients } from './check-gradients.js';

// x³ with a hand-written gradient, right or wrong by a factor.
function cube(factor: number) {
  return tf.customGrad((x, save) => {
    (save as tf.GradSaveFunc)([x as tf.Tensor]);
    return {
      value: tf.pow(x as tf.Tensor, 3),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, tf.mul(tf.square(saved[0]!), 3 * factor)),
    };
  }) as (x: tf.Tensor) => tf.Tensor;
}

describe('checkGradients', () => {
  const x = tf.tensor2d([
    [0.5, -1.25],
    [2, 0.75],
  ]);

  it('passes a right gradient: finite differences within 1e-4 of it, autodiff of the reference within 1e-6', async () => {
    await assertNoLeaks(() => {
      const check = checkGradients(cube(1), [x], { reference: (x) => tf.mul(tf.mul(x!, x!), x!) });
      expect(check.failures).toEqual([]);
      expect(check.numericError).toBeLessThan(1e-4);
      expect(check.referenceError).toBeLessThan(1e-6);
      expect(check.valueError).toBeLessThan(1e-6);
    });
  });

  it('fails a gradient 1 % off, naming the input and the worst element', () => {
    const check = checkGradients(cube(1.01), [x], { reference: (x) => tf.mul(tf.mul(x!, x!), x!) });
    expect(check.numericError).toBeGreaterThan(5e-3);
    expect(check.failures).toHaveLength(2);
    expect(check.failures[0]).toMatch(
      /^input 0: the gradient differs from finite differences by .* worst at element \d/,
    );
    expect(check.failures[1]).toMatch(/^input 0: the gradient differs from the reference's autodiff/);
  });

  it('fails a value that differs from the reference', () => {
    const check = checkGradients(cube(1), [x], {
      reference: (x) => tf.mul(tf.mul(x!, x!), tf.add(x!, 1e-3)),
    });
    expect(check.failures.some((f) => f.startsWith('the value differs from the reference'))).toBe(true);
  });

  it('differentiates only float32 inputs by default, and only `wrt` when given', () => {
    const ids = tf.tensor1d([1, 0], 'int32');
    const f = (x: tf.Tensor, i: tf.Tensor) => tf.mul(x, tf.expandDims(tf.cast(i, 'float32'), 1));
    const check = checkGradients((x, i) => f(x!, i!), [x, ids]);
    expect(check.inputs.map((i) => i.index)).toEqual([0]);
    expect(check.failures).toEqual([]);
    const y = tf.tensor2d([[1, 2]]);
    const only = checkGradients((a, b) => tf.add(a!, b!), [x, y], { wrt: [1] });
    expect(only.inputs.map((i) => i.index)).toEqual([1]);
    // The gradient of a broadcast input sums over the broadcast rows.
    expect(only.failures).toEqual([]);
    tf.dispose([ids, y]);
  });
});
