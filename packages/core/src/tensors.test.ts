import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { assertNoLeaks, countNewTensors, disposeAll } from './tensors.js';

describe('tensor hygiene helpers', () => {
  it('counts what a call leaves behind', async () => {
    const { leaked, result } = await countNewTensors(() => tf.ones([2]));
    expect(leaked).toBe(1);
    result.dispose();
  });

  it('assertNoLeaks passes clean calls and names leaky ones', async () => {
    await expect(assertNoLeaks(() => tf.tidy(() => tf.ones([3]).sum().dataSync()[0]))).resolves.toBe(3);
    let kept: tf.Tensor | undefined;
    await expect(
      assertNoLeaks(
        () => {
          kept = tf.zeros([1]);
        },
        { label: 'leaky' },
      ),
    ).rejects.toThrow('leaky: 1 tensor(s) left behind (expected 0)');
    kept?.dispose();
  });

  it('disposeAll walks records and arrays', () => {
    const before = tf.memory().numTensors;
    const nested = { a: tf.ones([1]), b: [tf.ones([1]), { c: tf.ones([2]) }], d: 3 };
    expect(tf.memory().numTensors).toBe(before + 3);
    disposeAll(nested);
    expect(tf.memory().numTensors).toBe(before);
  });
});
