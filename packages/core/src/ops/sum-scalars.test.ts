import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { assertNoLeaks } from '../tensors.js';
import { checkGradients } from './check-gradients.js';
import { sumScalars } from './sum-scalars.js';

describe('sumScalars', () => {
  it("is tf.addN's sum, bit for bit, and passes the gradient check against it", async () => {
    const terms = [0.1, -2.5, 3.25, 1e-3].map((v) => tf.scalar(v));
    const sum = sumScalars(terms);
    const plain = tf.addN(terms);
    expect(sum.dataSync()[0]).toBe(plain.dataSync()[0]);
    await assertNoLeaks(() => {
      const check = checkGradients((...t) => sumScalars(t as tf.Scalar[]), terms, {
        reference: (...t) => tf.addN(t),
      });
      expect(check.failures).toEqual([]);
      expect(check.inputs).toHaveLength(4);
    });
    tf.dispose([...terms, sum, plain]);
  });
});
