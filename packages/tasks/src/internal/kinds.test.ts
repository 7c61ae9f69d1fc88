// The multiclass loss of a task, in training (taskLoss) and in evaluation (lossTerms), is @mtl/core's
// softmax cross-entropy with its one rule for ids outside [0, C).
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { lossTerms, maskedMean, taskLoss } from './kinds.js';

const Z = [
  [2, -1, 0.5],
  [0, 0, 0],
  [-1, 3, 1],
  [0.5, 0.5, -2],
];
const ce = (z: number[], y: number) => {
  const m = Math.max(...z);
  return m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0)) - z[y]!;
};

describe('multiclass loss: one rule for ids outside [0, C)', () => {
  it('training and evaluation agree: -1 and an id past the head (refused earlier by the output check) add no loss and no count', () => {
    tf.tidy(() => {
      const z = tf.tensor2d(Z);
      const labels = tf.tensor1d([0, -1, 1, 5], 'int32');
      const expected = (ce(Z[0]!, 0) + ce(Z[2]!, 1)) / 2;
      const train = taskLoss('multiclass', z, labels, undefined, 't').dataSync()[0]!;
      const terms = lossTerms('multiclass', z, labels, undefined, 't');
      expect(train).toBeCloseTo(expected, 5);
      expect(terms.count.dataSync()[0]).toBe(2);
      expect(terms.sum.dataSync()[0]).toBeCloseTo(2 * expected, 5);
      expect(maskedMean(terms).dataSync()[0]).toBeCloseTo(train, 6);
    });
  });

  it('the fused training loss has the gradient of the evaluation composition', () => {
    const labels = tf.tensor1d([0, 2, -1, 1, -1, 2], 'int32');
    const z = tf.variable(tf.randomNormal([6, 3], 0, 2, 'float32', 5));
    const fused = tf.variableGrads(() => taskLoss('multiclass', z, labels, undefined, 't'), [z]);
    const plain = tf.variableGrads(() => maskedMean(lossTerms('multiclass', z, labels, undefined, 't')), [z]);
    expect(fused.value.dataSync()[0]).toBeCloseTo(plain.value.dataSync()[0]!, 6);
    const a = fused.grads[z.name]!.dataSync();
    const b = plain.grads[z.name]!.dataSync();
    for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 6);
    // Abstained rows get no gradient at all.
    expect(Array.from(a.slice(6, 9), Math.abs)).toEqual([0, 0, 0]);
    tf.dispose([
      labels,
      z,
      fused.value,
      plain.value,
      ...Object.values(fused.grads),
      ...Object.values(plain.grads),
    ]);
  });

  it('a label shape that is neither ids nor probability rows is DATA_SHAPE_MISMATCH in both', () => {
    tf.tidy(() => {
      const z = tf.tensor2d(Z);
      const bad = tf.zeros([4, 2]);
      expect(() => taskLoss('multiclass', z, bad, undefined, 'task t')).toThrow(/probability rows \[4, 3\]/);
      expect(() => lossTerms('multiclass', z, bad, undefined, 'task t')).toThrow(/probability rows \[4, 3\]/);
      expect(() => taskLoss('multiclass', z, tf.zeros([3], 'int32'), undefined, 'task t')).toThrow(
        /labels have 3 rows but the outputs have 4/,
      );
    });
  });
});
