import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { assertNoLeaks } from '../tensors.js';
import { checkGradients } from './check-gradients.js';
import { stopGradient } from './stop-gradient.js';
import { straightThrough } from './straight-through.js';

describe('straightThrough', () => {
  it('has the value of zq and the gradient of the identity on ze, none on zq (gradient check against the surrogate)', async () => {
    const ze = tf.tensor2d([
      [0.5, -1],
      [2, 0.25],
    ]);
    const zq = tf.tensor2d([
      [1, -1],
      [2, 0],
    ]);
    const z = straightThrough(ze, zq);
    expect(Array.from(z.dataSync())).toEqual([1, -1, 2, 0]);
    z.dispose();
    await assertNoLeaks(() => {
      const check = checkGradients((ze, zq) => straightThrough(ze!, zq!), [ze, zq], {
        // Its gradient is that of ze ↦ ze (and nothing of zq), not the derivative of its value.
        surrogate: (ze) => tf.clone(ze!),
      });
      expect(check.failures).toEqual([]);
      expect(check.inputs[1]!.analytic.every((v) => v === 0)).toBe(true);
      expect(check.inputs[0]!.analytic.some((v) => v !== 0)).toBe(true);
    });
    tf.dispose([ze, zq]);
  });
});

describe('stopGradient', () => {
  it('keeps the value and sends no gradient (gradient check against a constant surrogate)', async () => {
    const x = tf.tensor1d([0.5, -2, 3]);
    await assertNoLeaks(() => {
      // d/dx of x · stop(x) is stop(x) = x: the product's own gradient, none through stop.
      const check = checkGradients((x) => tf.mul(x!, stopGradient(x!)), [x], {
        surrogate: (x) => tf.mul(x!, tf.tensor1d([0.5, -2, 3])),
      });
      expect(check.failures).toEqual([]);
      // Against the derivative of its value (2x) the same gradient is off by half of it.
      const plain = checkGradients((x) => tf.mul(x!, stopGradient(x!)), [x]);
      expect(plain.numericError).toBeCloseTo(0.5, 3);
    });
    const y = stopGradient(x);
    expect(Array.from(y.dataSync())).toEqual([0.5, -2, 3]);
    tf.dispose([x, y]);
  });
});
