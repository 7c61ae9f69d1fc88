import { readFileSync } from 'node:fs';
import { RandomStream } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import {
  Bernoulli,
  Independent,
  klDivergence,
  MultiTaskElbo,
  Normal,
  type StackedStep,
  type TaskBatch,
  temperatureSchedule,
  VmtlModel,
} from './index.js';

// The README's examples, verbatim (the last test checks they stay in sync).

it('README example: VMTL on three logistic-regression tasks', () => {
  // Three logistic-regression tasks on 2-D inputs; tasks a and b have almost the same true weights.
  const rng = new RandomStream(43);
  const trueW: Record<string, number[]> = { a: [1, -1], b: [1.1, -0.9], c: [-1, -1] };
  const makeData = (task: string, n: number) => {
    const x = Array.from({ length: n }, () => [3 * rng.normal(), 3 * rng.normal()]);
    const y = x.map(([u, v]) =>
      rng.next() < 1 / (1 + Math.exp(-(u! * trueW[task]![0]! + v! * trueW[task]![1]!))) ? 1 : 0,
    );
    return { x, y };
  };
  const toBatch = (task: string, split: string, d: { x: number[][]; y: number[] }): TaskBatch => ({
    dataset: `${task}_data`,
    split,
    X: { x: tf.tensor2d(d.x) },
    Y: { [task]: tf.tensor1d(d.y) },
    size: d.y.length,
  });
  const names = ['a', 'b', 'c'];
  const train = names.map((t) => makeData(t, 320));
  const tasks = names.map((name) => ({ name, dataset: `${name}_data`, trainSize: 320 }));

  const model = new VmtlModel({ tasks, inputDim: 2 }); // q(w_t) = N(0, I) to start, α uniform
  const optimizer = tf.train.adam(0.01);
  let step = 0;
  for (let epoch = 0; epoch < 20; epoch++) {
    for (let start = 0; start < 320; start += 16) {
      // One stacked step: a batch of 16 rows of every task.
      const batch: StackedStep = names.map((t, i) =>
        toBatch(t, 'train', {
          x: train[i]!.x.slice(start, start + 16),
          y: train[i]!.y.slice(start, start + 16),
        }),
      );
      const ctx = { step: step++, epoch, seed: rng.nextSeed(), training: true };
      const loss = () => tf.addN(Object.values(model.loss(batch, ctx).parts)) as tf.Scalar;
      optimizer.minimize(loss, false, model.trainableVariables());
      for (const b of batch) tf.dispose([...Object.values(b.X), ...Object.values(b.Y)]);
    }
  }
  const test = names.map((t) => toBatch(t, 'test', makeData(t, 200)));
  const scores = model.score(test); // { 'a/a_data/test/accuracy': 0.885, 'a/a_data/test/loss': 0.27, ... }
  const alpha = model.alpha(); // [[null, 0.998, 0.002], [0.998, null, 0.002], [0.99, 0.01, null]]: a and b lean on each other
  for (const b of test) tf.dispose([...Object.values(b.X), ...Object.values(b.Y)]);
  optimizer.dispose();
  model.dispose();
  for (const t of names) expect(scores[`${t}/${t}_data/test/accuracy`]).toBeGreaterThan(0.8);
  expect(alpha![0]![1]!).toBeGreaterThan(alpha![0]![2]!);
  expect(alpha![1]![0]!).toBeGreaterThan(alpha![1]![2]!);
});

it('README example: a custom model through MultiTaskElbo', () => {
  const T = 2;
  const D = 3;
  const loc = tf.variable(tf.zeros([T, D]), true, 'my/loc');
  const logScale = tf.variable(tf.zeros([T, D]), true, 'my/logScale');
  const elbo = new MultiTaskElbo({
    datasetSizes: [1000, 200], // N_t: each task's minibatch sums are scaled by N_t / B_t
    classifierPosterior: () => new Independent(Normal.fromLogScale(loc, logScale), 1), // batch [T], event [D]
    // p(y | z, w) for all tasks at once: z [T, L, B, D], w [T, M, D] -> batch [T, L, M, B]
    likelihood: (z, w) => {
      const [, L, B] = z.shape as number[];
      const logits = tf.matMul(w as tf.Tensor3D, tf.reshape(z, [T, L! * B!, D]) as tf.Tensor3D, false, true);
      return new Bernoulli(tf.transpose(tf.reshape(logits, [T, -1, L!, B!]), [0, 2, 1, 3]));
    },
    classifierKl: 'momentMatched', // or 'upperBound' (default), 'monteCarlo'
    temperature: temperatureSchedule({ kind: 'exponential', rate: 1e-3, floor: 0.5 }),
    name: 'my',
  });
  const x = tf.randomNormal([T, 8, D], 0, 1, 'float32', 1);
  const y = tf.cast(tf.greater(tf.randomUniform([T, 8], 0, 1, 'float32', 2), 0.5), 'float32');
  const parts = tf.tidy(() => {
    const r = elbo.loss({ x, y }, { step: 0, seed: 3 }); // loss, taskLoss, likelihood, latentKl (null: z = x), classifierKl
    return { loss: r.loss.dataSync()[0]!, classifierKl: Array.from(r.classifierKl.dataSync()) };
  });
  const kl = tf.tidy(() => klDivergence(new Normal(0, 1), new Normal(1, 2)).dataSync()[0]!); // log 2 + 2/8 - 1/2
  tf.dispose([x, y, loc, logScale]);
  elbo.dispose();
  expect(Number.isFinite(parts.loss)).toBe(true);
  expect(parts.classifierKl).toEqual([0, 0]);
  expect(kl).toBeCloseTo(Math.log(2) + 0.25 - 0.5, 5);
});

it('README code blocks are the code tested here', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const self = readFileSync(new URL(import.meta.url), 'utf8');
  const norm = (s: string) =>
    s
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('import') && !/^[A-Za-z]+,$|^} from/.test(l))
      .join('\n');
  const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks.length).toBeGreaterThanOrEqual(2);
  for (const block of blocks.slice(0, 2)) expect(norm(self)).toContain(norm(block));
});
