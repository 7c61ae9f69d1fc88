import { RandomStream } from '@mtl/core';
import { applyPreprocessing, DictDataset, fitPreprocessing } from '@mtl/data';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildMultitaskModel } from './multitask-build.js';
import { multitaskRun } from './multitask-run.js';
import { unscalePredictions } from './original-units.js';
import type { TaskData } from './task-data.js';

/** y = 300 + 50·x0 - 20·x1 + N(0, 2²): targets far from unit scale, as a real regression. */
function table(split: string, n: number, seed: number): DictDataset {
  const rng = new RandomStream(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = [rng.normal(), rng.normal()];
    x.push(row);
    y.push(300 + 50 * row[0]! - 20 * row[1]! + 2 * rng.normal());
  }
  return new DictDataset('t', split, { x }, { y }, { labelKinds: { y: 'regression' } });
}

describe('a regression run built from options, with its label scaled (no app)', () => {
  it('scores mse / r2 in the original units (a hand computation), loss on the scaled targets, predicts in original units', async () => {
    const before = tf.memory().numTensors;
    const raw = { train: table('train', 64, 1), test: table('test', 24, 2) };
    const fitted = fitPreprocessing(raw.train, { labels: { y: 'standard' } });
    const splits = {
      train: applyPreprocessing(raw.train, fitted),
      test: applyPreprocessing(raw.test, fitted),
    };
    const data: TaskData = { source: 't', datasetName: 't', splits, inputs: ['x'], label: 'y' };
    const open = (d: TaskData) => {
      const rng = new RandomStream(7);
      const built = buildMultitaskModel(
        { y: { kind: 'regression', ops: ['net'], weight: 2, metrics: ['mse', 'r2'] } },
        { y: d },
        { net: { kind: 'mlp', hidden: [4], outputSize: 1 } },
        rng.childSeed('init'),
      );
      const batching = { batchSize: 16, scheduler: 'shuffled', shuffle: false } as const;
      return multitaskRun(built.model, built.modules, { y: d }, batching, rng);
    };
    // The same weights (same seed) without the scaler: scores and outputs on the scaled targets.
    const scaledRun = open(data);
    const scaled = await scaledRun.evaluate('test');
    const out = (await scaledRun.predict('y', splits.test)).probs.map((r) => r[0]!);
    scaledRun.dispose();
    const run = open({ ...data, preprocessing: fitted });
    try {
      const scores = await run.evaluate('test');
      // By hand: the model's outputs mapped back with y = y'·scale + offset, against the raw golds.
      const { offset, scale } = fitted.labels.y!;
      const gold = Array.from(raw.test.labelValues('y'));
      const pred = out.map((v) => v * scale[0]! + offset[0]!);
      const mse = gold.reduce((s, g, i) => s + (g - pred[i]!) ** 2, 0) / gold.length;
      const mean = gold.reduce((s, g) => s + g, 0) / gold.length;
      const r2 = 1 - (mse * gold.length) / gold.reduce((s, g) => s + (g - mean) ** 2, 0);
      expect(scale[0]!).toBeGreaterThan(40);
      expect(scores['y/t/test/mse']! / mse).toBeCloseTo(1, 5);
      expect(scores['y/t/test/r2']).toBeCloseTo(r2, 5);
      // Without the scaler the same model scores on the scaled targets: scale² times smaller.
      expect((scaled['y/t/test/mse']! * scale[0]! ** 2) / scores['y/t/test/mse']!).toBeCloseTo(1, 4);
      // The loss is the training objective (scaled targets), unchanged; the model-wide loss is
      // Σ weight·loss, as the Trainer logs model/all/train/loss.
      expect(scores['y/t/test/loss']).toBe(scaled['y/t/test/loss']);
      expect(scores['model/all/test/loss']).toBeCloseTo(2 * scores['y/t/test/loss']!, 10);
      const all = await run.scoreAll();
      expect(all['y/t/test/mse']).toBe(scores['y/t/test/mse']);
      expect(all['model/all/train/loss']).toBeCloseTo(2 * all['y/t/train/loss']!, 10);
      // Predictions in y's units.
      const p = await run.predict('y', splits.test);
      p.probs.forEach((row, i) => {
        expect(row[0]! / pred[i]!).toBeCloseTo(1, 5);
      });
    } finally {
      run.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses an embedding smaller than the vocabulary fitted on the train split, naming the operation', () => {
    const train = new DictDataset(
      'd',
      'train',
      { c: Int32Array.from([0, 1, 2, 0]) },
      { y: [1.5, 2.5, 3.5, 4.5] },
      { labelKinds: { y: 'regression' }, dictionaries: { c: ['red', 'blue', 'green'] } },
    );
    const fitted = fitPreprocessing(train, { fields: { c: { kind: 'categorical' } } });
    const data: TaskData = {
      source: 'd',
      datasetName: 'd',
      splits: { train: applyPreprocessing(train, fitted) },
      inputs: ['c'],
      label: 'y',
      preprocessing: fitted,
    };
    const build = (vocabSize: number) =>
      buildMultitaskModel(
        { y: { kind: 'regression', ops: ['emb', 'head'], weight: 1 } },
        { y: data },
        { emb: { kind: 'embedding', vocabSize, dim: 2 }, head: { kind: 'dense', units: 1 } },
        1,
      );
    expect(() => build(3)).toThrow(
      /module "emb" has vocabSize 3, but categorical field "c" uses 4 ids \(3 fitted on the train split \+ 1 reserved\): set vocabSize >= 4/,
    );
    try {
      build(3);
    } catch (e) {
      expect((e as { place: string }).place).toBe('tasks.y.ops[0]');
    }
    build(4).model.dispose();
  });

  it('unscales a predictive variance by scale², values by scale and offset', () => {
    const p = unscalePredictions(
      { probs: [Float32Array.of(1, 0.25)], columns: ['value_0', 'variance'] },
      { method: 'standard', offset: [300], scale: [50] },
    );
    expect(Array.from(p.probs[0]!)).toEqual([350, 625]);
  });
});
