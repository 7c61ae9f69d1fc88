import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { gradientConflicts } from './conflict.js';

describe('gradientConflicts', () => {
  it('cosine and norm ratio of the tasks’ gradients of the shared variables, by hand', () => {
    const w = tf.variable(tf.tensor1d([1, 2]), true, 'conflict-test/w');
    const h = tf.variable(tf.scalar(3), true, 'conflict-test/h');
    const ta = tf.tensor1d([0, 1]);
    const tb = tf.tensor1d([2, 0]);
    const model = {
      trainableVariables: () => [w, h],
      // h belongs to task a alone: its gradient (2h = 6) must not enter the comparison.
      parameterGroups: () => [
        { name: 'trunk', tasks: ['a', 'b'], variables: [w.name] },
        { name: 'head', tasks: ['a'], variables: [h.name] },
      ],
      loss: () => ({
        parts: {
          // ‖w − ta‖² + h²: gradient of w is 2(w − ta) = [2, 2]; split over two datasets.
          'a/d1': tf.add(tf.sum(tf.square(tf.sub(w, ta))), tf.square(h)) as tf.Scalar,
          'a/d2': tf.mul(tf.sum(w), 0) as tf.Scalar,
          // ‖w − tb‖²: gradient 2(w − tb) = [−2, 4].
          'b/d1': tf.sum(tf.square(tf.sub(w, tb))) as tf.Scalar,
        },
        extra: tf.scalar(1),
      }),
    };
    const before = tf.memory().numTensors;
    const scores = gradientConflicts(model, {}, { step: 0, epoch: 0, seed: 1, training: true });
    // ⟨[2,2], [−2,4]⟩ = 4; ‖[2,2]‖ = √8, ‖[−2,4]‖ = √20.
    expect(Object.keys(scores)).toEqual(['conflict/a/b/cosine', 'conflict/a/b/normRatio']);
    expect(scores['conflict/a/b/cosine']).toBeCloseTo(4 / Math.sqrt(160), 6);
    expect(scores['conflict/a/b/normRatio']).toBeCloseTo(Math.sqrt(8 / 20), 6);
    expect(tf.memory().numTensors).toBe(before);
    // Without parameter groups every variable is shared: h's gradient [6] joins a's row.
    const all = gradientConflicts(
      { trainableVariables: model.trainableVariables, loss: model.loss },
      {},
      { step: 0, epoch: 0, seed: 1, training: true },
    );
    expect(all['conflict/a/b/cosine']).toBeCloseTo(4 / Math.sqrt(44 * 20), 6);
    expect(all['conflict/a/b/normRatio']).toBeCloseTo(Math.sqrt(44 / 20), 6);
    // Opposite gradients: cosine −1.
    const opposite = gradientConflicts(
      {
        trainableVariables: () => [w],
        loss: () => ({ parts: { a: tf.sum(w) as tf.Scalar, b: tf.mul(tf.sum(w), -3) as tf.Scalar } }),
      },
      {},
      { step: 0, epoch: 0, seed: 1, training: true },
    );
    expect(opposite['conflict/a/b/cosine']).toBeCloseTo(-1, 12);
    expect(opposite['conflict/a/b/normRatio']).toBeCloseTo(1 / 3, 12);
    tf.dispose([w, h, ta, tb]);
  });
});
