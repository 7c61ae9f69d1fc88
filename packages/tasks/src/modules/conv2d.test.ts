import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Module } from '../module.js';
import { moduleFromConfig } from '../module-registry.js';
import { ShapeWalk } from '../shape-inference.js';
import { conv2d } from './conv2d.js';

const ctx = { training: false, seed: 0 };
const live: Module[] = [];
function track<M extends Module>(m: M): M {
  live.push(m);
  return m;
}
afterEach(() => {
  for (const m of live.splice(0)) m.dispose();
});
const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('conv2d', () => {
  it('convolves by hand: a 3×3 image, a 2×2 kernel, valid padding, then relu', () => {
    const c = track(
      conv2d({ imageShape: [3, 3, 1], filters: 1, kernelSize: 2, padding: 'valid', activation: 'relu' }),
    );
    c.build('conv');
    // Kernel rows are patch positions (0,0), (0,1), (1,0), (1,1).
    tf.tidy(() => c.setWeights({ kernel: tf.tensor2d([[1], [0], [0], [-1]]), bias: tf.tensor1d([0.5]) }));
    tf.tidy(() => {
      // image 1..9 row-major: each output is x[i][j] - x[i+1][j+1] + 0.5 = -4 + 0.5 -> relu 0;
      // the second image (9..1) gives +4 + 0.5.
      const x = tf.tensor2d([
        [1, 2, 3, 4, 5, 6, 7, 8, 9],
        [9, 8, 7, 6, 5, 4, 3, 2, 1],
      ]);
      const y = c.apply([x], ctx) as tf.Tensor;
      expect(y.shape).toEqual([2, 2, 2, 1]);
      expect(values(y)).toEqual([0, 0, 0, 0, 4.5, 4.5, 4.5, 4.5]);
    });
  });

  it('equals tf.conv2d with same padding, several channels and filters, and max-pools', () => {
    const c = track(conv2d({ imageShape: [5, 4, 2], filters: 3, pool: 2 }));
    c.build('conv', { seed: 3 });
    tf.tidy(() => {
      const x = tf.randomNormal([2, 5, 4, 2], 0, 1, 'float32', 7);
      const { kernel, bias } = c.getWeights();
      const ref = tf.add(
        tf.conv2d(x as tf.Tensor4D, tf.reshape(kernel!, [3, 3, 2, 3]) as tf.Tensor4D, 1, 'same'),
        bias!,
      );
      const pooled = tf.maxPool(tf.slice(ref, [0, 0, 0, 0], [2, 4, 4, 3]) as tf.Tensor4D, 2, 2, 'valid');
      const y = c.apply([tf.reshape(x, [2, 40])], ctx) as tf.Tensor;
      expect(y.shape).toEqual([2, 2, 2, 3]);
      const diff = tf.max(tf.abs(tf.sub(y, pooled))).dataSync()[0]!;
      expect(diff).toBeLessThan(1e-5);
    });
  });

  it('trains: the kernel gradient of a 1-pixel output is the patch', () => {
    const c = track(
      conv2d({ imageShape: [2, 2, 1], filters: 1, kernelSize: 2, padding: 'valid', flatten: true }),
    );
    c.build('conv');
    const kernel = c.trainableVariables().find((v) => v.name.endsWith('kernel'))!;
    const x = tf.tensor2d([[1, 2, 3, 4]]);
    const { grads } = tf.variableGrads(() => tf.sum(c.apply([x], ctx) as tf.Tensor) as tf.Scalar, [kernel]);
    expect(values(grads[kernel.name]!)).toEqual([1, 2, 3, 4]);
    tf.dispose([x, ...Object.values(grads)]);
  });

  it('infers its output row shape and rebuilds from its config', () => {
    const c = track(
      conv2d({ imageShape: [14, 14, 1], filters: 8, activation: 'relu', pool: 2, flatten: true }),
    );
    expect(new ShapeWalk().apply(c, 'conv', [[196]], { task: 't', operation: 'conv' })).toEqual([392]);
    const again = track(moduleFromConfig(c.getConfig()));
    expect(again.getConfig()).toEqual(c.getConfig());
    const shaped = track(conv2d({ filters: 2, padding: 'valid' }));
    expect(shaped.inferShape([[5, 6, 3]])).toEqual([3, 4, 2]);
  });

  it('refuses rows that hold another image and images smaller than the kernel', () => {
    expect(() => conv2d({ imageShape: [14, 14, 1], filters: 8 }).inferShape([[100]])).toThrow(
      'flat rows of 100 values do not hold a [14, 14, 1] image (196 values)',
    );
    expect(() => conv2d({ imageShape: [2, 2, 1], filters: 1, kernelSize: 3, padding: 'valid' })).toThrow(
      'a 2×2 image is smaller than the 3×3 kernel',
    );
    expect(() => conv2d({ filters: 1 }).inferShape([[10]])).toThrow('needs imageShape');
  });

  it('leaks no tensors', () => {
    const c = track(conv2d({ imageShape: [4, 4, 1], filters: 2, pool: 2, flatten: true }));
    c.build('conv');
    const x = tf.ones([3, 16]);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      c.apply([x], ctx);
    });
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
