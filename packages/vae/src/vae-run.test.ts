import { RandomStream, sgdStep } from '@mtl/core';
import { caught } from '@mtl/core/testing';
import type { TaskData } from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { makeVaeDomains } from './vae-domains.js';
import { buildVaeRun, type VaeModelOptions, type VaeRunConfig } from './vae-run.js';

const domains = makeVaeDomains({ tasks: 2, dim: 6, latentDim: 2, train: 32, test: 40 }, 3);
const taskData: Record<string, TaskData> = Object.fromEntries(
  domains.map((d) => [
    d.name,
    {
      source: 'domains',
      datasetName: d.train.name,
      splits: { train: d.train, test: d.test },
      inputs: ['x'],
      label: d.name,
    },
  ]),
);
const tasks = { domain1: {}, domain2: {} };
const top: VaeRunConfig = {
  modules: { lift: { kind: 'dense', units: 8, activation: 'tanh' } },
  training: { batchSize: 16, scheduler: 'shuffled', shuffle: true },
};
const model: VaeModelOptions = {
  modules: {
    encoder: { kind: 'gaussianEncoder', hidden: [8], latentSize: 2 },
    decoder: { kind: 'vaeDecoder', outputSize: 6 },
  },
  encoder: 'encoder',
  decoder: ['lift', 'decoder'],
  perTask: ['lift'],
  prior: 'standardNormal',
  beta: 1,
  latentSamples: 1,
  evalSamples: 4,
  activeUnitThreshold: 0.01,
  mixture: {
    gumbelNoise: true,
    estimator: 'monteCarlo',
    klSamples: 4,
    detachPrior: true,
    standardWeight: 0.5,
  },
};

describe('buildVaeRun: the VAE run protocol from options', () => {
  it('builds from module options (top-level modules too), saves to memory://, loads (same scores), predicts', async () => {
    const before = tf.memory().numTensors;
    const run = buildVaeRun(top, model, tasks, taskData, new RandomStream(3));
    expect(run.kind).toBe('vae');
    expect(run.moduleNames()).toEqual(['encoder', 'domain1.lift', 'decoder', 'domain2.lift']);
    await run.checkSplit('train');
    // One SGD step on the run's own first batches, so the saved weights are not the initial ones.
    sgdStep(run.trainable, run.trainSource(), { lr: 0.1 });
    const scores = await run.scoreAll();
    expect(Object.keys(scores)).toContain('domain2/domain2Dataset/test/recon_mse');
    // Σ weight·task loss (weights default to 1), as the Trainer logs model/all/train/loss.
    const losses = ['domain1', 'domain2'].map((d) => scores[`${d}/${d}Dataset/test/loss`]!);
    expect(scores['model/all/test/loss']).toBeCloseTo(losses[0]! + losses[1]!, 10);
    await run.save('memory://vae-run');
    run.dispose();
    // The file holds weights: the same options and seed rebuild the model (evaluation draws are seeded by it).
    const other = buildVaeRun(top, model, tasks, taskData, new RandomStream(3));
    expect(await other.scoreAll()).not.toEqual(scores);
    await other.load('memory://vae-run');
    expect(await other.scoreAll()).toEqual(scores);
    const p = await other.predict('domain1', domains[0]!.test);
    expect(p.probs).toHaveLength(40);
    expect(p.columns).toEqual([...[0, 1, 2, 3, 4, 5].map((j) => `recon_${j}`), 'z_mean_0', 'z_mean_1']);
    other.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('errors name the config paths of the options', () => {
    const unknown = caught(() =>
      buildVaeRun(top, { ...model, decoder: ['lift', 'dec'] }, tasks, taskData, new RandomStream(1)),
    );
    expect(unknown.code).toBe('UNKNOWN_MODULE');
    expect(unknown.place).toBe('model.decoder[1]');
    const perTask = caught(() =>
      buildVaeRun(top, { ...model, perTask: ['lift', 'nope'] }, tasks, taskData, new RandomStream(1)),
    );
    expect(perTask.place).toBe('model.perTask[1]');
    const ops = caught(() =>
      buildVaeRun(top, model, { domain1: { ops: ['encoder'] }, domain2: {} }, taskData, new RandomStream(1)),
    );
    expect(ops.place).toBe('tasks.domain1.ops');
  });
});
