import { RandomStream } from '@mtl/core';
import { encodeTensor } from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { decoder } from './decoder.js';
import { type GaussianEncoderOutput, gaussianEncoder } from './gaussian-encoder.js';
import { MultitaskVae, type SavedVae } from './multitask-vae.js';

const values = (t: tf.Tensor) => Array.from(t.dataSync());

/** U(-l, l) draws as the initialiser makes them: l = sqrt(6 / (fanIn + fanOut)). */
function glorot(rng: RandomStream, fanIn: number, fanOut: number): number[] {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return Array.from(Float32Array.from({ length: fanIn * fanOut }, () => (2 * rng.next() - 1) * limit));
}

describe('VAE encoder and decoder with an mlp trunk as a child module', () => {
  it('keep the initial weights they had when they held the layers themselves (one init stream)', () => {
    const enc = gaussianEncoder({ inputSize: 4, hidden: [8, 6], latentSize: 2 });
    enc.build('enc', { seed: 9 });
    // The draws of the layout before the child: dense_0, dense_1, loc, logScale kernels in order
    // (zero biases draw nothing) from RandomStream(seed).child(name).
    const rng = new RandomStream(9).child('enc');
    const w = enc.variables();
    expect(values(w['trunk/dense_0/kernel']!)).toEqual(glorot(rng, 4, 8));
    expect(values(w['trunk/dense_1/kernel']!)).toEqual(glorot(rng, 8, 6));
    expect(values(w['loc/kernel']!)).toEqual(glorot(rng, 6, 2));
    expect(values(w['logScale/kernel']!)).toEqual(glorot(rng, 6, 2));
    expect(values(w['trunk/dense_0/bias']!)).toEqual(new Array(8).fill(0));
    expect(enc.parameterCount()).toBe(4 * 8 + 8 + 8 * 6 + 6 + 2 * (6 * 2 + 2));
    // Same computation: tanh layers then linear heads.
    tf.tidy(() => {
      const x = tf.tensor2d([[1, -0.5, 2, 0]]);
      const h0 = tf.tanh(tf.add(tf.matMul(x, w['trunk/dense_0/kernel']!), w['trunk/dense_0/bias']!));
      const h1 = tf.tanh(tf.add(tf.matMul(h0, w['trunk/dense_1/kernel']!), w['trunk/dense_1/bias']!));
      const loc = tf.add(tf.matMul(h1, w['loc/kernel']!), w['loc/bias']!);
      const out = enc.apply([x], { training: false, seed: 0 }) as GaussianEncoderOutput;
      expect(values(out.loc)).toEqual(values(loc));
    });
    enc.dispose();

    const dec = decoder({ inputSize: 2, hidden: [5], outputSize: 3 });
    dec.build('dec', { seed: 4 });
    const drng = new RandomStream(4).child('dec');
    expect(values(dec.variables()['trunk/dense_0/kernel']!)).toEqual(glorot(drng, 2, 5));
    expect(values(dec.variables()['out/kernel']!)).toEqual(glorot(drng, 5, 3));
    dec.dispose();
  });

  it('load weights saved under the old names (dense_<i>/...) and refuse unknown ones', () => {
    const before = tf.memory().numTensors;
    const make = (prefix: string) =>
      new MultitaskVae({
        tasks: [{ name: 'a', dataset: 'A', encoder: 'enc', decoder: 'dec' }],
        modules: {
          enc: gaussianEncoder({ inputSize: 3, hidden: [4], latentSize: 2 }),
          dec: decoder({ inputSize: 2, hidden: [4], outputSize: 3 }),
        },
        seed: 1,
        variablePrefix: prefix,
      });
    const source = make('old/');
    const saved = source.toSaved();
    // Rewrite the file as the old layout wrote it.
    const old = {
      ...saved,
      modules: Object.fromEntries(
        Object.entries(saved.modules).map(([m, ws]) => [
          m,
          Object.fromEntries(Object.entries(ws).map(([k, t]) => [k.replace(/^trunk\//, ''), t])),
        ]),
      ),
    };
    expect(Object.keys(old.modules.enc!)).toContain('dense_0/kernel');
    const target = make('new/');
    expect(target.loadSaved(old)).toEqual({ reused: ['enc', 'dec'], new: [], dropped: [], reshaped: [] });
    for (const name of ['enc', 'dec']) {
      const a = source.module(name).getWeights();
      const b = target.module(name).getWeights();
      for (const k of Object.keys(a)) expect(values(b[k]!), `${name}/${k}`).toEqual(values(a[k]!));
      tf.dispose([...Object.values(a), ...Object.values(b)]);
    }
    const stray = tf.zeros([2]);
    const bad: SavedVae = {
      modules: { ...old.modules, enc: { ...old.modules.enc!, 'dense_9/bias': encodeTensor(stray) } },
    };
    stray.dispose();
    expect(() => target.loadSaved(bad)).toThrow(/other shapes for module\(s\) enc/);
    source.dispose();
    target.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
