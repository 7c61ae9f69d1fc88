import { dense } from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { decoder, gaussianEncoder, MultitaskVae, makeVaeDomains } from './index.js';

it('README example', () => {
  const before = tf.memory().numTensors;
  // Two related 16-D domains from one 2-D latent: 64 training rows each.
  const [a, b] = makeVaeDomains({ tasks: 2, train: 64, test: 500 }, 7);
  const model = new MultitaskVae({
    tasks: [
      { name: 'a', dataset: a!.train.name, encoder: 'encoder', decoder: ['a_lift', 'decoder'] },
      { name: 'b', dataset: b!.train.name, encoder: 'encoder', decoder: ['b_lift', 'decoder'] },
    ],
    modules: {
      encoder: gaussianEncoder({ inputSize: 16, hidden: [32], latentSize: 2 }), // shared
      a_lift: dense({ inputSize: 2, units: 32, activation: 'tanh' }), // per task
      b_lift: dense({ inputSize: 2, units: 32, activation: 'tanh' }),
      decoder: decoder({ inputSize: 32, outputSize: 16, likelihood: 'gaussian', scaleMode: 'learned' }), // shared
    },
    beta: { kind: 'linear', from: 0.2, to: 1, steps: 100 }, // KL annealing
    seed: 1,
  });

  const rows = (n: number, step: number, size: number) =>
    Int32Array.from({ length: size }, (_, i) => (step * size + i) % n);
  const optimizer = tf.train.adam(0.01);
  for (let step = 0; step < 200; step++) {
    const batches = [a!.train.collate(rows(64, step, 32)), b!.train.collate(rows(64, step, 32))];
    optimizer.minimize(
      () =>
        tf.addN(
          Object.values(model.loss(batches, { step, epoch: 0, seed: step, training: true }).parts),
        ) as tf.Scalar,
      false,
      model.trainableVariables(),
    );
    for (const batch of batches)
      for (const t of [...Object.values(batch.X), ...Object.values(batch.Y)]) t.dispose();
  }
  const test = a!.test.collate(Int32Array.from({ length: 500 }, (_, i) => i));
  const scores = model.score([test]);
  const { reconstruction, latentMean, latentLogScale } = model.reconstruct('a', test.X.x!); // [500, 16], [500, 2]
  const drawn = model.sample('b', 10, 42); // z ~ N(0, I) [10, 2]; decoder means and draws [10, 16]

  expect(scores['a/domain1Dataset/test/neg_elbo']).toBeLessThan(7.5);
  expect(scores['a/domain1Dataset/test/recon_mse']).toBeLessThan(0.1);
  expect(scores['a/domain1Dataset/test/active_units']).toBe(2);
  expect(reconstruction.shape).toEqual([500, 16]);
  expect(latentMean.shape).toEqual([500, 2]);
  expect(drawn.mean.shape).toEqual([10, 16]);
  tf.dispose([reconstruction, latentMean, latentLogScale!, drawn.z, drawn.mean, drawn.x]);
  for (const t of [...Object.values(test.X), ...Object.values(test.Y)]) t.dispose();
  optimizer.dispose();
  model.dispose();
  expect(tf.memory().numTensors).toBe(before);
});
