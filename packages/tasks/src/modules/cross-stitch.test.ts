import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { crossStitch } from '../index.js';
import { expectGradients, expectRoundTrip, twoTaskModel } from './test-utils.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('cross_stitch', () => {
  it('mixes the task columns after each layer, as computed by hand', () => {
    const before = tf.memory().numTensors;
    const net = crossStitch({ tasks: ['a', 'b'], hidden: [1], activation: 'linear', selfWeight: 0.75 });
    net.inferShape([[2]]);
    net.build('cs');
    // column a = x0, column b = x1; α = [[0.75, 0.25], [0.25, 0.75]] + stitch_0
    tf.tidy(() =>
      net.setWeights({
        'a_0/kernel': tf.tensor2d([[1], [0]]),
        'b_0/kernel': tf.tensor2d([[0], [1]]),
        stitch_0: tf.tensor2d([
          [0, 0],
          [0.25, 0],
        ]),
      }),
    );
    tf.tidy(() => {
      const out = net.apply([tf.tensor2d([[2, 4]])], { training: false, seed: 0 }) as Record<
        string,
        tf.Tensor
      >;
      expect(values(out.a!)[0]).toBeCloseTo(0.75 * 2 + 0.25 * 4, 5);
      expect(values(out.b!)[0]).toBeCloseTo(0.5 * 2 + 0.75 * 4, 5);
    });
    net.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('has gradients matching finite differences, and saves and loads', async () => {
    const net = crossStitch({ tasks: ['a', 'b'], hidden: [4, 2], activation: 'tanh' });
    net.inferShape([[3]]);
    net.build('cs', { seed: 2 });
    expectGradients(net, 'b', ['stitch_0', 'stitch_1', 'a_0/kernel']);
    net.dispose();
    const before = tf.memory().numTensors;
    const model = twoTaskModel(crossStitch({ tasks: ['a', 'b'], hidden: [4, 2] }));
    await expectRoundTrip(model, 'memory://cross-stitch-roundtrip');
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => crossStitch({ tasks: ['a'], hidden: [2] })).toThrow(/needs at least 2 task names/);
  });
});
