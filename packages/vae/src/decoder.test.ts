import { moduleFromConfig } from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { decoder, likelihoodMean, likelihoodOf } from './decoder.js';
import { registerVaeModules } from './register.js';

const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

describe('decoder', () => {
  it('Gaussian with a learned scale: one log-scale parameter per output, log p(x|z) by hand', () => {
    const dec = decoder({ inputSize: 2, outputSize: 3, scale: 0.5 });
    dec.build('dec', { seed: 1 });
    expect(Object.keys(dec.variables()).sort()).toEqual(['logScale', 'out/bias', 'out/kernel']);
    expect(dec.variables().logScale!.dataSync()[0]).toBeCloseTo(Math.log(0.5), 6);
    tf.tidy(() => {
      const z = tf.tensor2d([[0.2, -1]]);
      const out = dec.apply([z], { training: false, seed: 0 });
      const loc = (out as Record<string, tf.Tensor>).loc!.dataSync();
      const x = [1, 0, -1];
      const lp = likelihoodOf(out, 'test')
        .logProb(tf.tensor2d([x]))
        .dataSync()[0]!;
      let expected = 0;
      for (let j = 0; j < 3; j++) {
        expected += -0.5 * ((x[j]! - loc[j]!) / 0.5) ** 2 - Math.log(0.5) - HALF_LOG_2PI;
      }
      expect(lp).toBeCloseTo(expected, 4);
      expect(Array.from(likelihoodMean(out, 'test').dataSync())).toEqual(Array.from(loc));
    });
    dec.dispose();
  });

  it('Gaussian with a fixed scale has no scale parameter', () => {
    const dec = decoder({ inputSize: 2, hidden: [4], outputSize: 3, scaleMode: 'fixed', scale: 2 });
    dec.build('fixed', { seed: 1 });
    expect(Object.keys(dec.variables())).not.toContain('logScale');
    tf.tidy(() => {
      const out = dec.apply([tf.zeros([1, 2])], { training: false, seed: 0 }) as Record<string, tf.Tensor>;
      expect(out.logScale!.dataSync()[0]).toBeCloseTo(Math.log(2), 6);
    });
    dec.dispose();
  });

  it('Bernoulli: log p(x|z) = −Σ softplus((1 − 2x)·logit)', () => {
    const dec = decoder({ inputSize: 2, outputSize: 2, likelihood: 'bernoulli' });
    dec.build('bern', { seed: 2 });
    tf.tidy(() => {
      const out = dec.apply([tf.tensor2d([[1, 2]])], { training: false, seed: 0 }) as Record<
        string,
        tf.Tensor
      >;
      const l = out.logits!.dataSync();
      const sp = (v: number) => Math.log1p(Math.exp(v));
      const lp = likelihoodOf(out, 'b')
        .logProb(tf.tensor2d([[1, 0]]))
        .dataSync()[0]!;
      expect(lp).toBeCloseTo(-(sp(-l[0]!) + sp(l[1]!)), 5);
    });
    dec.dispose();
  });

  it('likelihoodOf names what it expected', () => {
    expect(() => likelihoodOf({ mean: tf.zeros([1]) }, 'task a.decoder')).toThrow(
      /task a.decoder: .*expected \{loc, logScale\} or \{logits\}/,
    );
  });

  it('round-trips through the module registry', () => {
    registerVaeModules();
    registerVaeModules(); // idempotent
    const dec = decoder({ inputSize: 2, hidden: [5], outputSize: 7, likelihood: 'bernoulli', seed: 4 });
    const copy = moduleFromConfig(dec.getConfig());
    expect(copy.getConfig()).toEqual(dec.getConfig());
    expect(() => decoder({ inputSize: 2, outputSize: 3, likelihood: 'poisson' as 'gaussian' })).toThrow(
      /likelihood must be one of/,
    );
  });
});
