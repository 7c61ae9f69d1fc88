// The four task kinds: losses against hand computations, predictions, and small trainings.
import { RandomStream } from '@mtl/core';
import { DictDataLoader, DictDataset, type LabelKind } from '@mtl/data';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Module } from './module.js';
import { dense } from './modules/dense.js';
import { mlp } from './modules/mlp.js';
import { MultitaskModel } from './multitask-model.js';
import { Task, type TaskOptions } from './task.js';
import { handBatch, plainFit } from './test-utils.js';

const models: MultitaskModel[] = [];
afterEach(() => {
  for (const m of models.splice(0)) m.dispose();
});

let made = 0;
/** A task whose outputs are its inputs (identity dense head), so losses can be computed by hand. */
function identityTask(width: number, options: Partial<TaskOptions> = {}): MultitaskModel {
  const head = dense({ inputSize: width, units: width });
  // A prefix per model: tfjs variable names are process-wide and several of these live at once.
  const model = new MultitaskModel(
    [
      new Task({
        name: 't',
        modulePool: { head },
        opSequence: [{ moduleName: 'head', inputs: [['_input_', 'z']] }],
        ...options,
      }),
    ],
    { variablePrefix: `m${made++}/` },
  );
  tf.tidy(() => head.setWeights({ kernel: tf.eye(width) }));
  models.push(model);
  return model;
}

function lossOf(model: MultitaskModel, z: number[][], labels: tf.Tensor): number {
  const batch = handBatch('d', 'train', { z: tf.tensor2d(z) }, { t: labels });
  const value = tf.tidy(
    () => model.loss(batch, { step: 0, epoch: 0, seed: 0, training: true }).parts['t/d']!.dataSync()[0]!,
  );
  tf.dispose([...Object.values(batch.X), ...Object.values(batch.Y)]);
  return value;
}

const softplus = (x: number) => Math.log1p(Math.exp(x));
const logSoftmax = (z: number[]) => {
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
};

describe('task kinds: losses by hand', () => {
  const Z = [
    [2, -1, 0.5],
    [0, 0, 0],
    [-1, 3, 1],
  ];

  it('multiclass takes soft rows: -sum p log softmax(z); a row with a negative entry abstains', () => {
    const model = identityTask(3);
    const p = [
      [0.7, 0.2, 0.1],
      [-1, -1, -1],
      [0, 0.5, 0.5],
    ];
    const expected = [0, 2].map((i) => -logSoftmax(Z[i]!).reduce((s, l, c) => s + p[i]![c]! * l, 0));
    expect(lossOf(model, Z, tf.tensor2d(p))).toBeCloseTo((expected[0]! + expected[1]!) / 2, 5);
    // Hard ids give the same as their one-hot rows.
    expect(lossOf(model, Z, tf.tensor1d([0, -1, 1], 'int32'))).toBeCloseTo(
      (-logSoftmax(Z[0]!)[0]! - logSoftmax(Z[2]!)[1]!) / 2,
      5,
    );
    expect(() =>
      lossOf(
        model,
        Z,
        tf.tensor2d([
          [1, 0],
          [0, 1],
          [1, 0],
        ]),
      ),
    ).toThrow(
      'task t: the last operation (module "head") outputs 3 units but its labels are rows of 2 class probabilities',
    );
  });

  it('binary: one logit, sigmoid cross-entropy softplus(z) - z t, with ids or [B, 2] rows', () => {
    const model = identityTask(1, { kind: 'binary' });
    const z = [[1.5], [-0.5], [4]];
    const bce = (x: number, t: number) => softplus(x) - x * t;
    expect(lossOf(model, z, tf.tensor1d([1, 0, -1], 'int32'))).toBeCloseTo(
      (bce(1.5, 1) + bce(-0.5, 0)) / 2,
      5,
    );
    const soft = tf.tensor2d([
      [0.2, 0.8],
      [0.6, 0.4],
      [0.5, 0.5],
    ]);
    expect(lossOf(model, z, soft)).toBeCloseTo((bce(1.5, 0.8) + bce(-0.5, 0.4) + bce(4, 0.5)) / 3, 5);
    const wide = identityTask(2, { kind: 'binary', name: 'w' } as Partial<TaskOptions>);
    expect(() =>
      tf.tidy(() => {
        wide.loss(handBatch('d', 'train', { z: tf.zeros([2, 2]) }, { w: tf.tensor1d([0, 1], 'int32') }), {
          step: 0,
          epoch: 0,
          seed: 0,
          training: true,
        });
      }),
    ).toThrow(
      /task w: the last operation \(module "head"\) outputs 2 units but a binary task has one logit per row/,
    );
  });

  it('multilabel: binary cross-entropy per cell, averaged over the cells present (-1 = missing)', () => {
    const model = identityTask(3, { kind: 'multilabel' });
    const y = [
      [1, 0, -1],
      [-1, -1, -1],
      [0, 1, 1],
    ];
    let sum = 0;
    let n = 0;
    for (const [i, row] of y.entries()) {
      for (const [c, t] of row.entries()) {
        if (t < 0) continue;
        sum += softplus(Z[i]![c]!) - Z[i]![c]! * t;
        n++;
      }
    }
    expect(lossOf(model, Z, tf.tensor2d(y))).toBeCloseTo(sum / n, 5);
    expect(lossOf(model, Z, tf.fill([3, 3], -1))).toBe(0);
  });

  it('regression: squared error over the present values (NaN = missing)', () => {
    const model = identityTask(2, { kind: 'regression' });
    const z = [
      [1, 2],
      [3, -1],
    ];
    const y = tf.tensor2d([
      [0, Number.NaN],
      [3.5, 1],
    ]);
    expect(lossOf(model, z, y)).toBeCloseTo((1 + 0.25 + 4) / 3, 5);
    const one = identityTask(1, { kind: 'regression', name: 'r' } as Partial<TaskOptions>);
    const batch = handBatch('d', 'train', { z: tf.tensor2d([[1], [2]]) }, { r: tf.tensor1d([0, 4]) });
    tf.tidy(() => {
      const v = one.loss(batch, { step: 0, epoch: 0, seed: 0, training: true }).parts['r/d']!.dataSync()[0]!;
      expect(v).toBeCloseTo((1 + 4) / 2, 6);
    });
    tf.dispose([...Object.values(batch.X), ...Object.values(batch.Y)]);
  });

  it('predicts in each kind: soft golds count as their argmax, multilabel cells, regression values', async () => {
    const multi = identityTask(3);
    const soft = await multi.predict(
      [
        handBatch(
          'd',
          'valid',
          { z: tf.tensor2d(Z) },
          {
            t: tf.tensor2d([
              [0.1, 0.7, 0.2],
              [-1, -1, -1],
              [0.5, 0.2, 0.3],
            ]),
          },
        ),
      ],
      { returnPreds: true },
    );
    expect(soft.t!.golds).toEqual(Int32Array.from([1, -1, 0]));
    expect(soft.t!.preds).toEqual(Int32Array.from([0, 0, 1]));
    const ml = identityTask(3, { kind: 'multilabel', name: 'm' } as Partial<TaskOptions>);
    const cells = await ml.predict(
      [
        handBatch(
          'd',
          'valid',
          { z: tf.tensor2d(Z) },
          {
            m: tf.tensor2d([
              [1, 0, -1],
              [0, 0, 1],
              [1, 1, 1],
            ]),
          },
        ),
      ],
      {
        returnPreds: true,
      },
    );
    expect(cells.m!.golds).toEqual([
      Float32Array.from([1, 0, -1]),
      Float32Array.from([0, 0, 1]),
      Float32Array.from([1, 1, 1]),
    ]);
    expect(cells.m!.preds).toEqual([
      Float32Array.from([1, 0, 1]),
      Float32Array.from([0, 0, 0]),
      Float32Array.from([0, 1, 1]),
    ]);
    expect(cells.m!.probs[0]![0]).toBeCloseTo(1 / (1 + Math.exp(-2)), 6);
    const reg = identityTask(1, { kind: 'regression', name: 'r' } as Partial<TaskOptions>);
    const scores = await reg.score([
      handBatch('d', 'valid', { z: tf.tensor2d([[1], [2], [5]]) }, { r: tf.tensor1d([0, Number.NaN, 3]) }),
    ]);
    expect(scores['r/d/valid/mse']).toBeCloseTo((1 + 4) / 2, 6);
  });

  it('custom outputs replace the kind default', async () => {
    const model = identityTask(2, { output: (z) => tf.softmax(tf.mul(z, 2)) });
    const p = await model.predict([handBatch('d', 'valid', { z: tf.tensor2d([[1, 0]]) })]);
    expect(p.t!.probs[0]![0]).toBeCloseTo(Math.exp(2) / (Math.exp(2) + 1), 6);
  });
});

/** Points uniform in [-1, 1]^2 and a labelling of them. */
function points(n: number, seed: number): number[][] {
  const rng = new RandomStream(seed);
  return Array.from({ length: n }, () => [2 * rng.next() - 1, 2 * rng.next() - 1]);
}

function loaders(kind: LabelKind, train: [number[][], unknown[]], test: [number[][], unknown[]]) {
  const ds = (split: string, [x, y]: [number[][], unknown[]]) =>
    new DictDataset('synth', split, { x }, { t: y as number[] }, { labelKinds: { t: kind } });
  return {
    train: new DictDataLoader(ds('train', train), { batchSize: 32, seed: 1 }),
    test: new DictDataLoader(ds('test', test), { batchSize: 64 }),
  };
}

function trainOn(
  kind: TaskOptions['kind'],
  trunk: Module,
  head: Module,
  scorer?: TaskOptions['scorer'],
): MultitaskModel {
  const model = new MultitaskModel(
    [
      new Task({
        name: 't',
        kind: kind ?? 'multiclass',
        modulePool: { trunk, head },
        opSequence: [
          { moduleName: 'trunk', inputs: [['_input_', 'x']] },
          { moduleName: 'head', inputs: ['trunk'] },
        ],
        ...(scorer === undefined ? {} : { scorer }),
      }),
    ],
    { seed: 5 },
  );
  models.push(model);
  return model;
}

describe('task kinds: training on small synthetic problems', () => {
  const xTrain = points(512, 1);
  const xTest = points(256, 2);

  it('binary (one logit): x + y > 0.2 to >= 95% test accuracy', async () => {
    const label = ([a, b]: number[]) => (a! + b! > 0.2 ? 1 : 0);
    const data = loaders('class', [xTrain, xTrain.map(label)], [xTest, xTest.map(label)]);
    const model = trainOn('binary', mlp({ inputSize: 2, hidden: [8] }), dense({ inputSize: 8, units: 1 }));
    plainFit(model, [data.train], { epochs: 15, lr: 0.02, seed: 1 });
    expect((await model.score([data.test]))['t/synth/test/accuracy']).toBeGreaterThanOrEqual(0.95);
  });

  it('multilabel: [x > 0, y > 0, x + y > 0] to >= 90% subset accuracy', async () => {
    const label = ([a, b]: number[]) => [a! > 0 ? 1 : 0, b! > 0 ? 1 : 0, a! + b! > 0 ? 1 : 0];
    const data = loaders('multilabel', [xTrain, xTrain.map(label)], [xTest, xTest.map(label)]);
    const model = trainOn(
      'multilabel',
      mlp({ inputSize: 2, hidden: [16] }),
      dense({ inputSize: 16, units: 3 }),
      { metrics: ['accuracy', 'f1_micro'] },
    );
    plainFit(model, [data.train], { epochs: 15, lr: 0.02, seed: 1 });
    const scores = await model.score([data.test]);
    expect(scores['t/synth/test/accuracy']).toBeGreaterThanOrEqual(0.9);
    expect(scores['t/synth/test/f1_micro']).toBeGreaterThanOrEqual(0.95);
  });

  it('regression: sin(2x) + y^2 to a test MSE below 0.01 (the targets vary with variance ~0.5)', async () => {
    const target = ([a, b]: number[]) => Math.sin(2 * a!) + b! * b!;
    const data = loaders('regression', [xTrain, xTrain.map(target)], [xTest, xTest.map(target)]);
    const model = trainOn(
      'regression',
      mlp({ inputSize: 2, hidden: [16], activation: 'tanh' }),
      dense({ inputSize: 16, units: 1 }),
    );
    plainFit(model, [data.train], { epochs: 30, lr: 0.03, seed: 1 });
    expect((await model.score([data.test]))['t/synth/test/mse']).toBeLessThan(0.01);
  });

  it('soft labels: three classes learnt from probabilistic labels to >= 90% accuracy on hard test labels', async () => {
    const centres = [
      [-0.5, -0.5],
      [0.5, -0.5],
      [0, 0.5],
    ];
    const scores = (p: number[]) => centres.map(([cx, cy]) => -4 * ((p[0]! - cx!) ** 2 + (p[1]! - cy!) ** 2));
    const soft = (p: number[]) => {
      const s = scores(p).map(Math.exp);
      const total = s.reduce((a, b) => a + b, 0);
      return s.map((v) => v / total);
    };
    const hard = (p: number[]) => {
      const s = scores(p);
      return s.indexOf(Math.max(...s));
    };
    const data = loaders('soft', [xTrain, xTrain.map(soft)], [xTest, xTest.map(soft)]);
    const model = trainOn(
      'multiclass',
      mlp({ inputSize: 2, hidden: [16] }),
      dense({ inputSize: 16, units: 3 }),
    );
    plainFit(model, [data.train], { epochs: 15, lr: 0.02, seed: 1 });
    const p = await model.predict(data.test, { returnPreds: true });
    const preds = p.t!.preds as Int32Array;
    const accuracy = xTest.filter((x, i) => preds[i] === hard(x)).length / xTest.length;
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
    // Golds of soft rows are their argmax, which is the hard label here.
    expect(Array.from(p.t!.golds as Int32Array)).toEqual(xTest.map(hard));
  });
});
