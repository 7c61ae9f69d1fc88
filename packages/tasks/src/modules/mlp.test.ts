import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { mlp } from './mlp.js';

describe('mlp', () => {
  it('mlp({inputSize: 2, hidden: [8, 4]}) is Linear(2,8) ReLU Linear(8,4) ReLU', () => {
    const m = mlp({ inputSize: 2, hidden: [8, 4] });
    m.build('base_mlp');
    const v = m.variables();
    expect(Object.fromEntries(Object.entries(v).map(([k, t]) => [k, t.shape]))).toEqual({
      'dense_0/kernel': [2, 8],
      'dense_0/bias': [8],
      'dense_1/kernel': [8, 4],
      'dense_1/bias': [4],
    });
    tf.tidy(() => {
      const x = tf.tensor2d([
        [0.3, -0.7],
        [-1, 0.2],
      ]);
      const manual = tf.relu(
        tf.add(
          tf.matMul(
            tf.relu(tf.add(tf.matMul(x, v['dense_0/kernel']!), v['dense_0/bias']!)),
            v['dense_1/kernel']!,
          ),
          v['dense_1/bias']!,
        ),
      );
      const y = m.apply([x], { training: false, seed: 0 }) as tf.Tensor;
      expect(Array.from(y.dataSync())).toEqual(Array.from(manual.dataSync()));
    });
    m.dispose();
  });

  it('an outputSize layer has no activation; dropout is seeded and only in training', () => {
    const m = mlp({ inputSize: 3, hidden: [64], outputSize: 2, dropout: 0.5 });
    m.build('clf');
    tf.tidy(() => {
      const x = tf.ones([4, 3]);
      const run = (training: boolean, seed: number) =>
        Array.from((m.apply([x], { training, seed }) as tf.Tensor).dataSync());
      expect(run(false, 1)).toEqual(run(false, 2));
      expect(run(true, 1)).toEqual(run(true, 1));
      expect(run(true, 1)).not.toEqual(run(true, 2));
      expect(run(true, 1)).not.toEqual(run(false, 1));
      // Linear output: some logits are negative (a ReLU output never would be).
      const big = mlp({ inputSize: 3, hidden: [4], outputSize: 16 });
      big.build('lin');
      expect(
        Math.min(...(big.apply([x], { training: false, seed: 0 }) as tf.Tensor).dataSync()),
      ).toBeLessThan(0);
      big.dispose();
    });
    expect(m.getConfig()).toEqual({
      type: 'mlp',
      inputSize: 3,
      hidden: [64],
      outputSize: 2,
      activation: 'relu',
      outputActivation: 'linear',
      dropout: 0.5,
      kernelInit: 'glorotUniform',
    });
    m.dispose();
  });

  it('torchUniform starts weights and biases like PyTorch: U(-1/sqrt(fanIn), 1/sqrt(fanIn))', () => {
    const m = mlp({ inputSize: 16, hidden: [32], kernelInit: 'torchUniform' });
    m.build('t');
    const bias = Array.from(m.variables()['dense_0/bias']!.dataSync());
    expect(Math.max(...bias.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...bias.map(Math.abs))).toBeGreaterThan(0.15);
    m.dispose();
  });

  it('validates its options', () => {
    expect(() => mlp({ inputSize: 2, hidden: [] })).toThrow(
      'mlp: needs at least one hidden layer or an outputSize',
    );
    expect(() => mlp({ inputSize: 2, hidden: [4, 0] })).toThrow(
      'mlp: hidden[1] must be an integer >= 1, got 0',
    );
    expect(() => mlp({ inputSize: 2, hidden: [4], dropout: 1 })).toThrow(
      /dropout must be a finite number >= 0 and < 1/,
    );
  });
});
