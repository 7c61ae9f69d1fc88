// Acceptance: Snorkel's multitask tutorial (seed 003) reproduced with a plain Adam loop.
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoLeaks } from '@mtl/core';
import { DictDataLoader, DictDataset, disposeBatch, makeToyDatasets } from '@mtl/data';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dense } from './modules/dense.js';
import { mlp } from './modules/mlp.js';
import { MultitaskModel } from './multitask-model.js';
import { Operation } from './operation.js';
import { Task } from './task.js';
import { median, plainFit, type ToyData, toyLoaders, toyTask } from './test-utils.js';

const SEED = 3;
const FIT = { epochs: 10, lr: 0.02, seed: SEED };

function twoTaskModel(): MultitaskModel {
  const base = mlp({ inputSize: 2, hidden: [8, 4] });
  return new MultitaskModel([toyTask('circle', base), toyTask('square', base)], { seed: SEED });
}

function accuracies(scores: Record<string, number>, splits: string[]): Record<string, number> {
  return Object.fromEntries(
    Object.entries(scores).filter(([k]) => k.endsWith('/accuracy') && splits.includes(k.split('/')[2]!)),
  );
}

describe('Snorkel tutorial, seed 003', () => {
  let circle: ToyData;
  let square: ToyData;
  let invCircle: ToyData;
  let model: MultitaskModel;
  let twoTaskScores: Record<string, number>;
  const loaders = (...data: ToyData[]) => data.flatMap((d) => [d.trainEval, d.valid, d.test]);

  beforeAll(() => {
    circle = toyLoaders('circle', SEED);
    square = toyLoaders('square', SEED);
    invCircle = toyLoaders('inv_circle', SEED);
    model = twoTaskModel();
    plainFit(model, [circle.train, square.train], FIT);
  });

  afterAll(() => model.dispose());

  it('two tasks sharing base_mlp reach the tutorial accuracies', async () => {
    expect([...model.modulePool.keys()]).toEqual(['base_mlp', 'circle_head', 'square_head']);
    expect(model.trainableVariables().map((v) => `${v.name} [${v.shape}]`)).toEqual([
      'base_mlp/dense_0/kernel [2,8]',
      'base_mlp/dense_0/bias [8]',
      'base_mlp/dense_1/kernel [8,4]',
      'base_mlp/dense_1/bias [4]',
      'circle_head/kernel [4,2]',
      'circle_head/bias [2]',
      'square_head/kernel [4,2]',
      'square_head/bias [2]',
    ]);
    twoTaskScores = await model.score(loaders(circle, square));
    const acc = accuracies(twoTaskScores, ['valid', 'test']);
    expect(Object.keys(acc).sort()).toEqual([
      'circle_task/circleDataset/test/accuracy',
      'circle_task/circleDataset/valid/accuracy',
      'square_task/squareDataset/test/accuracy',
      'square_task/squareDataset/valid/accuracy',
    ]);
    for (const v of Object.values(acc)) expect(v).toBeGreaterThanOrEqual(0.88);
    expect(median(Object.values(acc))).toBeGreaterThanOrEqual(0.92);
    // Per-task losses for every split, and the model-wide loss (Snorkel reports only the latter).
    expect(twoTaskScores['circle_task/circleDataset/train/loss']).toBeGreaterThan(0);
    expect(twoTaskScores['square_task/squareDataset/valid/loss']).toBeLessThan(0.4);
    expect(twoTaskScores['model/all/valid/loss']).toBeCloseTo(
      twoTaskScores['circle_task/circleDataset/valid/loss']! +
        twoTaskScores['square_task/squareDataset/valid/loss']!,
      6,
    );
  });

  it('the same seed gives identical scores', async () => {
    // tfjs variable names are process-wide: a second live model with the same module names needs a prefix.
    const base = mlp({ inputSize: 2, hidden: [8, 4] });
    const again = new MultitaskModel([toyTask('circle', base), toyTask('square', base)], {
      seed: SEED,
      variablePrefix: 'again/',
    });
    plainFit(again, [circle.train, square.train], FIT);
    expect(await again.score(loaders(circle, square))).toEqual(twoTaskScores);
    expect(again.trainableVariables()[0]!.name).toBe('again/base_mlp/dense_0/kernel');
    again.dispose();
  });

  it('leaves no tensors behind in predict, score, and a loss + gradient step', async () => {
    await assertNoLeaks(() => model.predict(circle.valid, { returnPreds: true }), { label: 'predict' });
    await assertNoLeaks(() => model.score(loaders(circle, square)), { label: 'score' });
    await assertNoLeaks(
      () => {
        const batch = circle.train.dataset.collate([0, 1, 2, 3]);
        const { value, grads } = tf.variableGrads(() => {
          const { parts } = model.loss([batch], { step: 0, epoch: 0, seed: 1, training: true });
          return tf.addN(Object.values(parts)) as tf.Scalar;
        }, model.trainableVariables());
        expect(Object.keys(grads).length).toBe(6); // trunk + circle head; the square head is not on the path
        value.dispose();
        tf.dispose(grads);
        disposeBatch(batch);
      },
      { label: 'loss + gradient' },
    );
  });

  it('predicts on an unlabeled dataset (Snorkel cannot)', async () => {
    const labeled = circle.test.dataset;
    const rows = Array.from({ length: labeled.length }, (_, i) => i);
    const batch = labeled.collate(rows);
    const x = batch.X.circle_data!.arraySync() as number[][];
    disposeBatch(batch);
    const unlabeled = new DictDataLoader(new DictDataset('circleDataset', 'unlabeled', { circle_data: x }), {
      batchSize: 32,
    });
    const got = await model.predict(unlabeled, { returnPreds: true });
    expect(Object.keys(got)).toEqual(['circle_task']);
    expect(got.circle_task!.golds).toBeUndefined();
    expect(got.circle_task!.probs.length).toBe(100);
    const ref = await model.predict(circle.test, { returnPreds: true });
    expect(got.circle_task!.preds).toEqual(ref.circle_task!.preds);
    expect(got.circle_task!.probs).toEqual(ref.circle_task!.probs);
    for (const row of got.circle_task!.probs) expect(row[0]! + row[1]!).toBeCloseTo(1, 5);
  });

  it('saves to a bare file name and loads identical predictions; a shape mismatch names the module', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtl-tasks-'));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      await model.save('model.json');
      expect(readdirSync(dir)).toEqual(['model.json']);
      const loaded = await MultitaskModel.load('model.json', { variablePrefix: 'loaded/' });
      try {
        expect(loaded.taskNames).toEqual(['circle_task', 'square_task']);
        const a = await model.predict(square.test, { returnPreds: true });
        const b = await loaded.predict(square.test, { returnPreds: true });
        expect(b).toEqual(a);
      } finally {
        loaded.dispose();
      }
      // A model whose circle head has 3 classes cannot take the saved 2-class head.
      const base = mlp({ inputSize: 2, hidden: [8, 4] });
      const other = new MultitaskModel([toyTask('circle', base)], { variablePrefix: 'other/' });
      other.addTask(
        new Task({
          name: 'square_task',
          modulePool: { base_mlp: base, square_head: dense({ inputSize: 4, units: 3 }) },
          opSequence: [
            new Operation({ moduleName: 'base_mlp', inputs: [['_input_', 'square_data']] }),
            new Operation({ moduleName: 'square_head', inputs: ['base_mlp'] }),
          ],
        }),
      );
      await expect(other.loadModuleWeights('model.json')).rejects.toMatchObject({
        code: 'CHECKPOINT_MISMATCH',
        message: expect.stringContaining(
          'module "square_head" parameter "bias" has shape [3] but the saved one has [2]',
        ),
      });
      const report = await other.loadModuleWeights('model.json', { onMismatch: 'reinit' });
      expect(report).toEqual({
        reused: ['base_mlp', 'circle_head'],
        reshaped: ['square_head'],
        new: [],
        dropped: [],
      });
      other.dispose();
    } finally {
      process.chdir(cwd);
    }
  });

  it('adds inv_circle_task: 3 tasks, 4 modules, 9 scores of at least 0.85', async () => {
    const base = model.modulePool.get('base_mlp')!;
    model.addTask(toyTask('inv_circle', base));
    expect(model.tasks.length).toBe(3);
    expect(model.modulePool.size).toBe(4); // one shared trunk plus three heads
    plainFit(model, [circle.train, square.train, invCircle.train], FIT);
    const acc = accuracies(await model.score(loaders(circle, square, invCircle)), ['train', 'valid', 'test']);
    expect(Object.keys(acc).length).toBe(9);
    expect(Object.keys(acc)).toContain('inv_circle_task/inv_circleDataset/test/accuracy');
    for (const v of Object.values(acc)) expect(v).toBeGreaterThanOrEqual(0.85);
  });

  it('removeTask frees the removed head and leaves the other tasks unchanged', async () => {
    const before = await model.score(loaders(circle, square));
    const tensors = tf.memory().numTensors;
    expect(model.removeTask('inv_circle_task')).toEqual(['inv_circle_head']);
    expect(model.modulePool.size).toBe(3);
    expect(tf.memory().numTensors).toBe(tensors - 2); // its kernel and bias
    expect(model.taskNames).toEqual(['circle_task', 'square_task']);
    expect(await model.score(loaders(circle, square))).toEqual(before);
  });

  it('the toy data matches the tutorial: 800/100/100 points per task', () => {
    const ds = makeToyDatasets('circle', {}, SEED);
    expect([ds.train!.length, ds.valid!.length, ds.test!.length]).toEqual([800, 100, 100]);
  });
});
