// A head whose width does not match the task's classes, labels or targets is an error at the first
// forward pass or loss (it used to train: rows of the missing classes added zero loss).
import { isMtlError, type MtlError } from '@mtl/core';
import { caught } from '@mtl/core/testing';
import { DictDataLoader, DictDataset } from '@mtl/data';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { dense } from './modules/dense.js';
import { mlp } from './modules/mlp.js';
import { MultitaskModel } from './multitask-model.js';
import { Task, type TaskOptions } from './task.js';
import { handBatch } from './test-utils.js';

const models: MultitaskModel[] = [];
afterEach(() => {
  for (const m of models.splice(0)) m.dispose();
});

let made = 0;
function model(units: number, options: Partial<TaskOptions> = {}): MultitaskModel {
  const m = new MultitaskModel(
    [
      new Task({
        name: 'colour_task',
        label: 'colour',
        modulePool: {
          trunk: mlp({ inputSize: 2, hidden: [4] }),
          colour_head: dense({ inputSize: 4, units }),
        },
        opSequence: [
          { moduleName: 'trunk', inputs: [['_input_', 'x']] },
          { moduleName: 'colour_head', inputs: ['trunk'] },
        ],
        ...options,
      }),
    ],
    { variablePrefix: `w${made++}/` },
  );
  models.push(m);
  return m;
}

const ctx = { step: 0, epoch: 0, seed: 0, training: true };
const x = () => tf.tensor2d([0.1, 0.2, -0.3, 0.4, 0.5, -0.6], [3, 2]);

/** The loss of one batch inside tf.tidy, disposing the batch; returns the error if it throws. */
function lossError(m: MultitaskModel, labels: tf.Tensor): MtlError {
  const batch = handBatch('paints', 'train', { x: x() }, { colour: labels });
  const before = tf.memory().numTensors;
  try {
    return caught(() => tf.tidy(() => m.loss(batch, ctx).parts['colour_task/paints']!));
  } finally {
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...Object.values(batch.X), ...Object.values(batch.Y)]);
  }
}

describe('output width against the task (DATA_SHAPE_MISMATCH naming task, module, units, expected)', () => {
  it('multiclass with numClasses: a narrower or a wider head fails at the first loss and forward', () => {
    const narrow = model(2, { numClasses: 3 });
    const e = lossError(narrow, tf.tensor1d([0, 1, 2], 'int32'));
    expect(e.code).toBe('DATA_SHAPE_MISMATCH');
    expect(e.message).toBe(
      'task colour_task: the last operation (module "colour_head") outputs 2 units but the task has 3 classes: give module "colour_head" 3 units',
    );
    expect(e.details).toEqual({ task: 'colour_task', module: 'colour_head', units: 2, expected: 3 });
    // Rows of class 0 and 1 only: still refused, the head can never predict class 2.
    expect(lossError(narrow, tf.tensor1d([0, 1, 1], 'int32')).code).toBe('DATA_SHAPE_MISMATCH');
    // forward on unlabeled rows knows the class count from the task.
    const unlabeled = handBatch('paints', 'test', { x: x() });
    expect(caught(() => tf.tidy(() => narrow.forward(unlabeled))).details.expected).toBe(3);
    tf.dispose(Object.values(unlabeled.X));
    const wide = model(4, { numClasses: 3 });
    expect(lossError(wide, tf.tensor1d([0, 1, 2], 'int32')).message).toContain(
      'outputs 4 units but the task has 3 classes',
    );
    // The right width trains.
    const right = model(3, { numClasses: 3 });
    const batch = handBatch('paints', 'train', { x: x() }, { colour: tf.tensor1d([0, 2, -1], 'int32') });
    const loss = tf.tidy(() => right.loss(batch, ctx).parts['colour_task/paints']!.dataSync()[0]!);
    expect(loss).toBeGreaterThan(0);
    tf.dispose([...Object.values(batch.X), ...Object.values(batch.Y)]);
  });

  it('multiclass without numClasses: soft rows tell the width; an id beyond the head is LABEL_OUT_OF_RANGE', () => {
    const m = model(2);
    const soft = tf.tensor2d([1, 0, 0, 0, 1, 0, 0, 0, 1], [3, 3]);
    expect(lossError(m, soft).message).toContain(
      'outputs 2 units but its labels are rows of 3 class probabilities',
    );
    const e = lossError(m, tf.tensor1d([0, -1, 2], 'int32'));
    expect(e.code).toBe('LABEL_OUT_OF_RANGE');
    expect(e.message).toBe(
      'task colour_task: label "colour" is 2 at row 2 of dataset paints/train, outside the task\'s classes [0, 2) (-1 = abstain)',
    );
    expect(lossError(m, tf.tensor1d([0, -3, 1], 'int32')).message).toContain('is -3 at row 1');
  });

  it('score and predict check too (an out-of-range id no longer scores as a zero loss)', async () => {
    const m = model(2);
    const ds = new DictDataset(
      'paints',
      'valid',
      {
        x: [
          [0, 1],
          [1, 0],
          [2, 2],
        ],
      },
      { colour: [0, 1, 2] },
    );
    const e = await m.score(new DictDataLoader(ds, { batchSize: 2 })).catch((err: unknown) => err);
    expect(isMtlError(e, 'LABEL_OUT_OF_RANGE')).toBe(true);
    expect((e as MtlError).message).toContain('is 2 at row 2 of dataset paints/valid');
    const narrow = model(2, { numClasses: 3 });
    const f = await narrow.predict(new DictDataLoader(ds, { batchSize: 2 })).catch((err: unknown) => err);
    expect(isMtlError(f, 'DATA_SHAPE_MISMATCH')).toBe(true);
  });

  it('binary: one logit; numClasses other than 2 is refused at construction', () => {
    const e = lossError(model(2, { kind: 'binary' }), tf.tensor1d([0, 1, 1], 'int32'));
    expect(e.message).toBe(
      'task colour_task: the last operation (module "colour_head") outputs 2 units but a binary task has one logit per row (2 classes): give module "colour_head" 1 unit, or use kind \'multiclass\' for a softmax over the units',
    );
    expect(lossError(model(1, { kind: 'binary' }), tf.tensor1d([0, 2, 1], 'int32')).message).toContain(
      "is 2 at row 1 of dataset paints/train, outside the task's classes [0, 2)",
    );
    expect(caught(() => model(1, { kind: 'binary', numClasses: 3 })).code).toBe('INVALID_ARGUMENT');
    expect(model(1, { kind: 'binary', numClasses: 2 }).getTask('colour_task').numClasses).toBe(2);
  });

  it('multilabel: width = labels (from the rows, or numClasses without labels)', () => {
    const rows = tf.tensor2d([1, 0, -1, 0, 1, 1, 1, 1, 0], [3, 3]);
    expect(lossError(model(2, { kind: 'multilabel' }), rows).message).toContain(
      'outputs 2 units but its labels are rows of 3 labels: give module "colour_head" 3 units',
    );
    const m = model(4, { kind: 'multilabel', numClasses: 3 });
    const unlabeled = handBatch('paints', 'test', { x: x() });
    expect(caught(() => tf.tidy(() => m.forward(unlabeled))).details).toMatchObject({
      units: 4,
      expected: 3,
    });
    tf.dispose(Object.values(unlabeled.X));
  });

  it('regression: width = target values per row; numClasses is refused', () => {
    const e = lossError(model(3, { kind: 'regression' }), tf.tensor1d([0.5, 1, Number.NaN]));
    expect(e.message).toBe(
      'task colour_task: the last operation (module "colour_head") outputs 3 units but the targets have 1 value per row: give module "colour_head" 1 unit',
    );
    expect(
      lossError(model(1, { kind: 'regression' }), tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2])).details,
    ).toEqual({
      task: 'colour_task',
      module: 'colour_head',
      units: 1,
      expected: 2,
    });
    expect(caught(() => model(1, { kind: 'regression', numClasses: 1 })).message).toContain(
      'a regression task has no classes',
    );
  });

  it('numClasses survives save and load, and a loaded narrow head is still refused', async () => {
    const m = model(2, { numClasses: 3 });
    const saved = m.toSaved();
    expect(saved.tasks[0]!.numClasses).toBe(3);
    const back = await MultitaskModel.load(saved, { variablePrefix: `w${made++}/` });
    models.push(back);
    expect(back.getTask('colour_task').numClasses).toBe(3);
    expect(lossError(back, tf.tensor1d([0, 1, 2], 'int32')).code).toBe('DATA_SHAPE_MISMATCH');
  });
});
