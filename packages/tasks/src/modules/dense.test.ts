import { RandomStream } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Module } from '../module.js';
import { moduleFromConfig } from '../module-registry.js';
import { dense } from './dense.js';

const ctx = { training: false, seed: 0 };
const live: Module[] = [];
function track<M extends Module>(m: M): M {
  live.push(m);
  return m;
}
afterEach(() => {
  for (const m of live.splice(0)) m.dispose();
});

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

describe('dense', () => {
  it('computes activation(x W + b) on the last axis', () => {
    const d = track(dense({ inputSize: 2, units: 2, activation: 'relu' }));
    d.build('head');
    tf.tidy(() =>
      d.setWeights({
        kernel: tf.tensor2d([
          [1, -2],
          [3, -4],
        ]),
        bias: tf.tensor1d([0.5, 1]),
      }),
    );
    tf.tidy(() => {
      // [1, 1] W = [4, -6]; + b = [4.5, -5]; relu -> [4.5, 0]
      expect(values(d.apply([tf.tensor2d([[1, 1]])], ctx) as tf.Tensor)).toEqual([4.5, 0]);
      // Two inputs are concatenated: [1] ++ [1] is the same row.
      expect(values(d.apply([tf.tensor2d([[1]]), tf.tensor2d([[1]])], ctx) as tf.Tensor)).toEqual([4.5, 0]);
      // Rank 3: applied per position.
      const y = d.apply(
        [
          tf.tensor3d([
            [
              [1, 1],
              [0, 1],
            ],
          ]),
        ],
        ctx,
      ) as tf.Tensor;
      expect(y.shape).toEqual([1, 2, 2]);
      expect(values(y)).toEqual([4.5, 0, 3.5, 0]); // [0, 1] W + b = [3.5, -3]
    });
  });

  it('names its variables after the module and keeps the prefix out of weight keys', () => {
    const d = track(dense({ inputSize: 3, units: 2 }));
    d.build('circle_head', { prefix: 'm1/' });
    expect(d.trainableVariables().map((v) => v.name)).toEqual([
      'm1/circle_head/kernel',
      'm1/circle_head/bias',
    ]);
    const w = d.getWeights();
    expect(Object.keys(w)).toEqual(['kernel', 'bias']);
    tf.dispose(w);
  });

  it('initialises deterministically: glorot uniform from RandomStream(seed).child(name), zero bias', () => {
    const a = track(dense({ inputSize: 30, units: 20 }));
    a.build('h', { seed: 5 });
    const b = track(dense({ inputSize: 30, units: 20 }));
    b.build('h2', { seed: 5 });
    const kernel = values(a.variables().kernel!);
    // Same stream as the module draws from: the same numbers.
    const rng = new RandomStream(5).child('h');
    const limit = Math.sqrt(6 / 50);
    expect(kernel[0]).toBeCloseTo((2 * rng.next() - 1) * limit, 6);
    expect(Math.max(...kernel.map(Math.abs))).toBeLessThanOrEqual(limit);
    expect(Math.max(...kernel.map(Math.abs))).toBeGreaterThan(0.9 * limit);
    expect(values(a.variables().bias!)).toEqual(new Array(20).fill(0));
    expect(values(b.variables().kernel!)).not.toEqual(kernel); // other name, other draw
    a.dispose();
    const again = track(dense({ inputSize: 30, units: 20 }));
    again.build('h', { seed: 5 });
    expect(values(again.variables().kernel!)).toEqual(kernel);
    again.dispose();
    const c = track(dense({ inputSize: 30, units: 20, seed: 5 }));
    c.build('h', { seed: 999 }); // the builder's seed wins over the model's
    expect(values(c.variables().kernel!)).toEqual(kernel);
  });

  it('refuses a second live module with the same variable names, and renaming a built module', () => {
    const a = track(dense({ inputSize: 2, units: 2 }));
    a.build('same');
    a.build('same'); // idempotent
    expect(() => a.build('other')).toThrow(expect.objectContaining({ code: 'MODULE_CONFLICT' }));
    const b = track(dense({ inputSize: 2, units: 2 }));
    expect(() => b.build('same')).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_NAME', message: expect.stringContaining('"same/kernel"') }),
    );
    expect(b.isBuilt).toBe(false);
  });

  it('checks shapes: inputs, weights, options', () => {
    const d = track(dense({ inputSize: 3, units: 2 }));
    expect(() => d.apply([tf.zeros([1, 3])], ctx)).toThrow(/not built/);
    d.build('h');
    expect(() => tf.tidy(() => d.apply([tf.zeros([1, 4])], ctx))).toThrow(
      'module h: expects inputs whose last axis has 3 values, got shape [1,4]',
    );
    expect(() => tf.tidy(() => d.setWeights({ kernel: tf.zeros([2, 2]) }))).toThrow(
      'module h: parameter "kernel" has shape [3,2] but the weights have shape [2,2]',
    );
    expect(() => tf.tidy(() => d.setWeights({ gamma: tf.zeros([2]) }))).toThrow(/no parameter "gamma"/);
    expect(() => dense({ inputSize: 0, units: 2 })).toThrow(
      'dense: inputSize must be an integer >= 1, got 0',
    );
    expect(() => dense({ inputSize: 2, units: 2, kernelInit: 'nope' as never })).toThrow(
      /kernelInit must be one of/,
    );
  });

  it('round-trips through its config', () => {
    const d = dense({
      inputSize: 4,
      units: 3,
      activation: 'tanh',
      useBias: false,
      kernelInit: 'heUniform',
      seed: 2,
    });
    const config = d.getConfig();
    expect(config).toEqual({
      type: 'dense',
      inputSize: 4,
      units: 3,
      activation: 'tanh',
      useBias: false,
      kernelInit: 'heUniform',
      biasInit: 'zeros',
      seed: 2,
    });
    expect(moduleFromConfig(JSON.parse(JSON.stringify(config))).getConfig()).toEqual(config);
  });

  it('disposes its variables and can be built again', () => {
    const before = tf.memory().numTensors;
    const d = dense({ inputSize: 2, units: 2 });
    d.build('h');
    expect(tf.memory().numTensors).toBe(before + 2);
    d.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(d.isBuilt).toBe(false);
    d.build('h');
    d.dispose();
  });
});
