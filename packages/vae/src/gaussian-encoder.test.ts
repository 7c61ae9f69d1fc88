import { assertNoLeaks } from '@mtl/core';
import { Independent, klDivergence, monteCarloKl, Normal } from '@mtl/variational';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type GaussianEncoderOutput,
  gaussianEncoder,
  gaussianPosterior,
  reparameterize,
  standardNormalKl,
} from './gaussian-encoder.js';

const standard = (d: number) => new Independent(new Normal(tf.zeros([d]), tf.ones([d])), 1);

describe('gaussianEncoder', () => {
  it('builds named parameters and returns loc, logScale and one reparameterised draw', () => {
    const enc = gaussianEncoder({ inputSize: 4, hidden: [8], latentSize: 2 });
    enc.build('enc', { seed: 3 });
    expect(Object.keys(enc.variables()).sort()).toEqual([
      'loc/bias',
      'loc/kernel',
      'logScale/bias',
      'logScale/kernel',
      'trunk/dense_0/bias',
      'trunk/dense_0/kernel',
    ]);
    expect(enc.trainableVariables().map((v) => v.name)).toContain('enc/logScale/kernel');
    tf.tidy(() => {
      const x = tf.randomNormal([5, 4], 0, 1, 'float32', 1);
      const out = enc.apply([x], { training: true, seed: 11 }) as GaussianEncoderOutput;
      expect(out.loc.shape).toEqual([5, 2]);
      expect(out.logScale.shape).toEqual([5, 2]);
      // z is loc + exp(logScale)·ε with the ε of the call's seed: the same seed, the same draw.
      const again = enc.apply([x], { training: true, seed: 11 }) as GaussianEncoderOutput;
      expect(Array.from(again.z.dataSync())).toEqual(Array.from(out.z.dataSync()));
      const eps = tf.div(tf.sub(out.z, out.loc), tf.exp(out.logScale));
      expect(Math.abs(tf.mean(eps).dataSync()[0]!)).toBeLessThan(2);
    });
    enc.dispose();
  });

  it('logScaleInit sets the starting posterior scale', () => {
    const enc = gaussianEncoder({ inputSize: 3, latentSize: 2, logScaleInit: Math.log(0.1) });
    enc.build('enc0', { seed: 1 });
    tf.tidy(() => {
      const out = enc.apply([tf.zeros([1, 3])], { training: false, seed: 0 }) as GaussianEncoderOutput;
      for (const v of tf.exp(out.logScale).dataSync()) expect(v).toBeCloseTo(0.1, 6);
    });
    enc.dispose();
  });

  it('rejects bad options with the option named', () => {
    expect(() => gaussianEncoder({ inputSize: 0, latentSize: 2 })).toThrow(/inputSize/);
    expect(() => gaussianEncoder({ inputSize: 2, latentSize: 2, hidden: [4, -1] })).toThrow(/hidden\[1\]/);
    expect(() => gaussianEncoder({ inputSize: 2, latentSize: 2, activation: 'nope' as 'tanh' })).toThrow(
      /activation/,
    );
  });
});

describe('KL of the encoder against N(0, I)', () => {
  it('matches the closed form by hand: ½ Σ (σ² + μ² − 1 − 2 log σ)', () => {
    tf.tidy(() => {
      const loc = tf.tensor2d([[1, 0]]);
      const logScale = tf.tensor2d([[0, Math.log(2)]]);
      const expected = 0.5 * (1 + 1 - 1 - 0) + 0.5 * (4 + 0 - 1 - 2 * Math.log(2));
      expect(standardNormalKl(loc, logScale).dataSync()[0]).toBeCloseTo(expected, 5);
    });
  });

  it("agrees with @mtl/variational's registered KL and with a Monte Carlo estimate, on encoder outputs", () => {
    const enc = gaussianEncoder({ inputSize: 6, hidden: [16], latentSize: 3, logScaleInit: -0.5 });
    enc.build('klenc', { seed: 5 });
    tf.tidy(() => {
      const x = tf.randomNormal([4, 6], 0, 2, 'float32', 9);
      const { loc, logScale } = enc.apply([x], { training: false, seed: 0 }) as GaussianEncoderOutput;
      const ours = standardNormalKl(loc, logScale).dataSync();
      const q = gaussianPosterior(loc, logScale);
      const registered = klDivergence(q, standard(3)).dataSync();
      const sampled = monteCarloKl(q, standard(3), 40_000, 17).dataSync();
      for (let i = 0; i < 4; i++) {
        expect(ours[i]).toBeCloseTo(registered[i]!, 4);
        expect(Math.abs(ours[i]! - sampled[i]!)).toBeLessThan(0.03 + 0.03 * ours[i]!);
      }
    });
    enc.dispose();
  });

  it('is >= 0, and 0 exactly at N(0, I) (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ min: -3, max: 3, noNaN: true }), { minLength: 2, maxLength: 2 }),
        fc.array(fc.float({ min: -2, max: 2, noNaN: true }), { minLength: 2, maxLength: 2 }),
        (mu, ls) => {
          const kl = tf.tidy(() => standardNormalKl(tf.tensor2d([mu]), tf.tensor2d([ls])).dataSync()[0]!);
          expect(kl).toBeGreaterThanOrEqual(-1e-5);
        },
      ),
      { numRuns: 50 },
    );
    expect(tf.tidy(() => standardNormalKl(tf.zeros([1, 4]), tf.zeros([1, 4])).dataSync()[0])).toBe(0);
  });
});

describe('reparameterize', () => {
  it('is deterministic per seed and has the requested shape', () => {
    tf.tidy(() => {
      const loc = tf.tensor2d([[0, 1]]);
      const ls = tf.tensor2d([[0, -1]]);
      const a = reparameterize(loc, ls, 4, 3);
      expect(a.shape).toEqual([3, 1, 2]);
      expect(Array.from(reparameterize(loc, ls, 4, 3).dataSync())).toEqual(Array.from(a.dataSync()));
      expect(Array.from(reparameterize(loc, ls, 5, 3).dataSync())).not.toEqual(Array.from(a.dataSync()));
    });
  });

  it('has gradients that agree with finite differences (fixed noise) and with their expectation', () => {
    // f(μ, s) = mean over draws of Σ_d z_d², z = μ + e^s ε: E f = Σ μ² + e^{2s}.
    const seed = 21;
    const f = (loc: tf.Tensor, ls: tf.Tensor) =>
      tf.mean(tf.sum(tf.square(reparameterize(loc, ls, seed, 20_000)), -1)) as tf.Scalar;
    tf.tidy(() => {
      const loc = tf.tensor2d([[0.7, -0.3]]);
      const ls = tf.tensor2d([[-0.2, 0.4]]);
      const [gLoc, gLs] = tf.grads(f)([loc, ls]);
      const g = [...gLoc!.dataSync(), ...gLs!.dataSync()];
      const base = [0.7, -0.3, -0.2, 0.4];
      const h = 1e-2;
      for (let i = 0; i < 4; i++) {
        const at = (delta: number) => {
          const v = [...base];
          v[i]! += delta;
          return f(tf.tensor2d([v.slice(0, 2)]), tf.tensor2d([v.slice(2)])).dataSync()[0]!;
        };
        const fd = (at(h) - at(-h)) / (2 * h);
        expect(Math.abs(g[i]! - fd)).toBeLessThan(2e-2 * Math.max(1, Math.abs(fd)));
      }
      // Expected gradients: 2μ and 2e^{2s}.
      const expected = [1.4, -0.6, 2 * Math.exp(-0.4), 2 * Math.exp(0.8)];
      for (let i = 0; i < 4; i++)
        expect(Math.abs(g[i]! - expected[i]!)).toBeLessThan(0.05 * Math.max(1, expected[i]!) + 0.05);
    });
  });

  it('leaks no tensor', async () => {
    const loc = tf.zeros([2, 3]);
    const ls = tf.zeros([2, 3]);
    await assertNoLeaks(() => reparameterize(loc, ls, 1).dispose());
    await assertNoLeaks(() => standardNormalKl(loc, ls).dispose());
    tf.dispose([loc, ls]);
  });
});
