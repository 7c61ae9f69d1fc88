import { assertNoLeaks } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { finiteDifference, take } from './internal/test-utils.js';
import { Normal } from './normal.js';

describe('Normal', () => {
  it('has the closed-form log density, mean, variance and entropy', () => {
    tf.tidy(() => {
      const d = new Normal(tf.tensor1d([0, 1]), tf.tensor1d([1, 2]));
      expect(d.batchShape).toEqual([2]);
      expect(d.eventShape).toEqual([]);
      const lp = take(d.logProb(tf.tensor1d([0.5, -1])));
      expect(lp[0]).toBeCloseTo(-0.5 * Math.log(2 * Math.PI) - 0.125, 5);
      expect(lp[1]).toBeCloseTo(-0.5 * Math.log(2 * Math.PI) - Math.log(2) - 0.5, 5);
      expect(take(d.mean())).toEqual([0, 1]);
      expect(take(d.variance())).toEqual([1, 4]);
      const h = take(d.entropy());
      expect(h[1]).toBeCloseTo(0.5 + 0.5 * Math.log(2 * Math.PI) + Math.log(2), 5);
    });
  });

  it('fromLogScale equals the scale form, and numbers broadcast', () => {
    tf.tidy(() => {
      const a = Normal.fromLogScale(tf.tensor1d([1, 2, 3]), Math.log(0.5));
      const b = new Normal(tf.tensor1d([1, 2, 3]), 0.5);
      expect(a.batchShape).toEqual([3]);
      const x = tf.tensor1d([0, 2, 5]);
      expect(take(a.logProb(x))).toEqual(take(b.logProb(x)).map((v) => expect.closeTo(v, 5)));
    });
  });

  it('samples have the right shape and moments, and the same seed gives the same draws', () => {
    tf.tidy(() => {
      const d = new Normal(tf.tensor1d([-2, 3]), tf.tensor1d([0.5, 2]));
      const x = d.sample([20000], 5);
      expect(x.shape).toEqual([20000, 2]);
      const m = take(tf.mean(x, 0));
      const v = take(tf.moments(x, 0).variance);
      expect(m[0]).toBeCloseTo(-2, 1);
      expect(m[1]).toBeCloseTo(3, 1);
      expect(v[0]).toBeCloseTo(0.25, 1);
      expect(v[1]! / 4).toBeCloseTo(1, 1);
      expect(take(d.sample(3, 9))).toEqual(take(d.sample(3, 9)));
      expect(take(d.sample(3, 9))).not.toEqual(take(d.sample(3, 10)));
    });
  });

  it('rsample gradients agree with finite differences', () => {
    // f(loc, logScale) = Σ sin(w)·w² over 4 draws w = loc + exp(logScale)·ε at a fixed seed.
    const f = (theta: number[]) =>
      tf.tidy(() => {
        const d = Normal.fromLogScale(tf.tensor1d(theta.slice(0, 2)), tf.tensor1d(theta.slice(2)));
        const w = d.rsample(4, 11);
        return tf.sum(tf.mul(tf.sin(w), tf.square(w))).dataSync()[0]!;
      });
    const theta = [0.3, -0.7, -0.2, 0.4];
    const g = tf.tidy(() => {
      const grads = tf.grads((loc: tf.Tensor, ls: tf.Tensor) => {
        const w = Normal.fromLogScale(loc, ls).rsample(4, 11);
        return tf.sum(tf.mul(tf.sin(w), tf.square(w)));
      })([tf.tensor1d(theta.slice(0, 2)), tf.tensor1d(theta.slice(2))]);
      return [...take(grads[0]!), ...take(grads[1]!)];
    });
    const fd = finiteDifference(f, theta, 1e-2);
    g.forEach((v, i) => {
      expect(v).toBeCloseTo(fd[i]!, 1);
    });
    for (let i = 0; i < g.length; i++)
      expect(Math.abs(g[i]! - fd[i]!)).toBeLessThan(0.02 * Math.max(1, Math.abs(fd[i]!)));
  });

  it('sample() carries no gradient', () => {
    const g = tf.tidy(() =>
      take(tf.grad((loc: tf.Tensor) => tf.sum(new Normal(loc, 1).sample(3, 1)))(tf.tensor1d([0, 0]))),
    );
    expect(g).toEqual([0, 0]);
  });

  it('mapBatch reshapes every parameter and dispose frees what it made', async () => {
    const loc = tf.tensor2d([[1, 2, 3]]);
    await assertNoLeaks(() => {
      const d = new Normal(loc, 2);
      const e = d.mapBatch((p) => tf.reshape(p, [3, 1]));
      expect(e.batchShape).toEqual([3, 1]);
      const s = e.scale.dataSync();
      expect(Array.from(s)).toEqual([2, 2, 2]);
      e.dispose();
      d.dispose();
    });
    loc.dispose();
  });

  it('rejects a non-positive numeric scale', () => {
    expect(() => new Normal(0, 0)).toThrow(/scale must be > 0/);
  });
});
