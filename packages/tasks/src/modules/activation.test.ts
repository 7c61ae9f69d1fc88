import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { gradientGap } from '../test-utils.js';
import { ACTIVATIONS, activation, applyActivation } from './activation.js';

describe('activations', () => {
  it('take their textbook values', () => {
    tf.tidy(() => {
      const at = (name: (typeof ACTIVATIONS)[number], x: number) =>
        applyActivation(name, tf.tensor1d([x])).dataSync()[0]!;
      expect(at('relu', -1)).toBe(0);
      expect(at('relu6', 9)).toBe(6);
      expect(at('sigmoid', 0)).toBeCloseTo(0.5, 6);
      expect(at('tanh', 1)).toBeCloseTo(Math.tanh(1), 6);
      expect(at('softplus', 0)).toBeCloseTo(Math.log(2), 6);
      expect(at('gelu', 1)).toBeCloseTo(0.8412, 3);
      expect(at('leakyRelu', -2)).toBeCloseTo(-0.02, 6);
      expect(at('elu', -1)).toBeCloseTo(Math.exp(-1) - 1, 6);
      expect(at('linear', -3)).toBe(-3);
    });
    expect(() => activation({ fn: 'swish' as never })).toThrow(/fn must be one of/);
  });

  it(`each has a correct gradient on the ${tf.getBackend()} backend (finite differences)`, () => {
    // Points away from the kinks of relu-like functions.
    const v = tf.variable(tf.tensor2d([[-1.3, -0.4, 0.35, 0.9, 2.1, 7.2]]), true, 'act_test_x');
    const w = tf.tensor2d([[0.5, -1, 2, 1.5, -0.7, 0.3]]);
    for (const name of ACTIVATIONS) {
      const gap = gradientGap(() => tf.sum(tf.mul(applyActivation(name, v), w)) as tf.Scalar, v);
      expect(gap, name).toBeLessThan(2e-2);
    }
    v.dispose();
    w.dispose();
  });
});
