import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertNoLeaks, checksummedJson, makeArtifacts, saveArtifacts } from '@mtl/core';
import type { Batch } from '@mtl/data';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { readSavedModel, savedModelArtifacts } from './checkpoint.js';
import { Dense, dense } from './modules/dense.js';
import { layersModule } from './modules/layers-module.js';
import { mlp } from './modules/mlp.js';
import { MultitaskModel } from './multitask-model.js';
import { Task } from './task.js';
import { gradientGap, handBatch } from './test-utils.js';

class CountingDense extends Dense {
  calls = 0;
  protected override forward(inputs: tf.Tensor[]): tf.Tensor {
    this.calls++;
    return super.forward(inputs);
  }
}

const models: MultitaskModel[] = [];
function track(m: MultitaskModel): MultitaskModel {
  models.push(m);
  return m;
}
afterEach(() => {
  for (const m of models.splice(0)) m.dispose();
});

/** A task `name` reading `field` through the shared module `base` then its own 2-class head. */
function headTask(
  name: string,
  base: Dense,
  field = 'x',
  extra: Partial<ConstructorParameters<typeof Task>[0]> = {},
) {
  return new Task({
    name,
    modulePool: { base, [`${name}_head`]: dense({ inputSize: 3, units: 2 }) },
    opSequence: [
      { moduleName: 'base', inputs: [['_input_', field]] },
      { moduleName: `${name}_head`, inputs: ['base'] },
    ],
    ...extra,
  });
}

function batchOf(dataset: string, x: number[][], labels: Record<string, number[]>, split = 'train'): Batch {
  return handBatch(
    dataset,
    split,
    { x: tf.tensor2d(x) },
    Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, tf.tensor1d(v, 'int32')])),
  );
}

const X = [
  [1, 0],
  [0, 1],
  [1, 1],
  [-1, 0.5],
];

describe('MultitaskModel: the module pool', () => {
  it('merges modules by name and refuses one name for two objects, naming both tasks', () => {
    const base = new CountingDense({ inputSize: 2, units: 3 });
    const model = track(new MultitaskModel([headTask('a', base), headTask('b', base)]));
    expect([...model.modulePool.keys()]).toEqual(['base', 'a_head', 'b_head']);
    expect(model.trainableVariables().length).toBe(6);
    const other = new CountingDense({ inputSize: 2, units: 3 });
    expect(() => model.addTask(headTask('c', other))).toThrow(
      expect.objectContaining({
        code: 'MODULE_CONFLICT',
        message: expect.stringContaining(
          'tasks a and c both have a module named "base" but they are different objects',
        ),
      }),
    );
    expect(model.taskNames).toEqual(['a', 'b']);
    expect(() => model.addTask(headTask('a', base))).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_NAME' }),
    );
    const alias = new Task({
      name: 'd',
      modulePool: { trunk: base, d_head: dense({ inputSize: 3, units: 2 }) },
      opSequence: [{ moduleName: 'trunk', inputs: [['_input_', 'x']] }],
    });
    expect(() => model.addTask(alias)).toThrow(/one module object has one name/);
  });

  it('runs an operation shared by tasks once per batch (counting module)', () => {
    const base = new CountingDense({ inputSize: 2, units: 3 });
    const model = track(new MultitaskModel([headTask('a', base), headTask('b', base)]));
    const batch = batchOf('both', X, { a: [0, 1, 0, 1], b: [1, 1, 0, 0] });
    tf.tidy(() => {
      const out = model.loss(batch, { step: 0, epoch: 0, seed: 0, training: true });
      expect(Object.keys(out.parts)).toEqual(['a/both', 'b/both']);
    });
    expect(base.calls).toBe(1);
    tf.tidy(() => model.forward(batch));
    expect(base.calls).toBe(2);
    // Same module on different fields computes different tensors: both run.
    const c = headTask('c', base, 'x2');
    model.addTask(c);
    const two = handBatch(
      'two',
      'train',
      { x: tf.tensor2d(X), x2: tf.tensor2d(X.map(([u, v]) => [v!, u!])) },
      {
        a: tf.tensor1d([0, 1, 0, 1], 'int32'),
        c: tf.tensor1d([0, 1, 0, 1], 'int32'),
      },
    );
    base.calls = 0;
    tf.tidy(() => {
      const out = model.forward(two);
      expect(Array.from(out.a!.dataSync())).not.toEqual(Array.from(out.c!.dataSync()));
    });
    expect(base.calls).toBe(2);
    tf.dispose([
      ...Object.values(batch.X),
      ...Object.values(batch.Y),
      ...Object.values(two.X),
      ...Object.values(two.Y),
    ]);
  });

  it('removeTask frees only modules no task of any live model uses', () => {
    const base = dense({ inputSize: 2, units: 3 });
    const a = headTask('a', base);
    const b = headTask('b', base);
    const model = track(new MultitaskModel([a, b]));
    const solo = track(new MultitaskModel([a])); // shares base and a_head with `model`
    const tensors = tf.memory().numTensors;
    expect(model.removeTask('a')).toEqual(['a_head']);
    expect(tf.memory().numTensors).toBe(tensors); // still held by `solo`
    expect(solo.removeTask('a')).toEqual(['base', 'a_head']);
    expect(tf.memory().numTensors).toBe(tensors - 2); // a_head freed; base still held by `model`
    expect(model.modulePool.size).toBe(2);
    model.dispose();
    expect(tf.memory().numTensors).toBe(tensors - 6);
    expect(() => model.removeTask('b')).toThrow(/disposed/);
    expect(() => solo.removeTask('zzz')).toThrow(expect.objectContaining({ code: 'UNKNOWN_TASK' }));
  });

  it('explains clashing variable names between live models; a variablePrefix resolves it', () => {
    const first = track(new MultitaskModel([headTask('a', dense({ inputSize: 2, units: 3 }))]));
    expect(() => new MultitaskModel([headTask('a', dense({ inputSize: 2, units: 3 }))])).toThrow(
      expect.objectContaining({ code: 'DUPLICATE_NAME', message: expect.stringContaining('variablePrefix') }),
    );
    const second = track(
      new MultitaskModel([headTask('a', dense({ inputSize: 2, units: 3 }))], { variablePrefix: 'b/' }),
    );
    expect(second.trainableVariables()[0]!.name).toBe('b/base/kernel');
    expect(Object.keys(second.getWeights())).toEqual(Object.keys(first.getWeights()));
    tf.dispose(Object.values(first.getWeights()));
    tf.dispose(Object.values(second.getWeights()));
  });

  it('freeze keeps modules out of trainableVariables', () => {
    const model = track(new MultitaskModel([headTask('a', dense({ inputSize: 2, units: 3 }))]));
    model.freeze(['base']);
    expect(model.trainableVariables().map((v) => v.name)).toEqual(['a_head/kernel', 'a_head/bias']);
    model.unfreeze(['base']);
    expect(model.trainableVariables().length).toBe(4);
    expect(() => model.freeze(['nope'])).toThrow(expect.objectContaining({ code: 'UNKNOWN_MODULE' }));
  });
});

describe('MultitaskModel: loss', () => {
  function fixedModel(): MultitaskModel {
    const base = dense({ inputSize: 2, units: 3 });
    const model = track(new MultitaskModel([headTask('a', base), headTask('b', base)]));
    tf.tidy(() =>
      model.setWeights({
        'base/kernel': tf.tensor2d([
          [1, 0, 0.5],
          [0, 1, -0.5],
        ]),
        'a_head/kernel': tf.tensor2d([
          [1, -1],
          [0.5, 2],
          [-1, 1],
        ]),
        'a_head/bias': tf.tensor1d([0.1, -0.2]),
      }),
    );
    return model;
  }

  /** Cross-entropy by hand from the fixed weights above (base bias 0). */
  function handLoss(rows: number[][], labels: number[]): number {
    let sum = 0;
    let n = 0;
    rows.forEach(([x1, x2], i) => {
      if (labels[i] === -1) return;
      const h = [x1!, x2!, 0.5 * x1! - 0.5 * x2!];
      const z = [h[0]! + 0.5 * h[1]! - h[2]! + 0.1, -h[0]! + 2 * h[1]! + h[2]! - 0.2];
      const lse = Math.log(Math.exp(z[0]!) + Math.exp(z[1]!));
      sum += lse - z[labels[i]!]!;
      n++;
    });
    return sum / n;
  }

  it('is the mean cross-entropy over labeled rows, skipping abstains; parts keyed task/dataset', () => {
    const model = fixedModel();
    const batch = batchOf('ds1', X, { a: [0, -1, 1, 1] });
    const loss = tf.tidy(
      () =>
        model.loss([batch], { step: 0, epoch: 0, seed: 0, training: true }).parts['a/ds1']!.dataSync()[0]!,
    );
    expect(loss).toBeCloseTo(handLoss(X, [0, -1, 1, 1]), 5);
    tf.dispose([...Object.values(batch.X), ...Object.values(batch.Y)]);
  });

  it('gives 0 (not NaN) and a zero gradient for a batch with no labeled row', () => {
    const model = fixedModel();
    const batch = batchOf('ds1', X, { a: [-1, -1, -1, -1] });
    const { value, grads } = tf.variableGrads(
      () => model.loss(batch, { step: 0, epoch: 0, seed: 0, training: true }).parts['a/ds1']!,
      model.trainableVariables(),
    );
    expect(value.dataSync()[0]).toBe(0);
    for (const g of Object.values(grads)) for (const v of g.dataSync()) expect(v).toBe(0);
    tf.dispose([value, ...Object.values(grads), ...Object.values(batch.X), ...Object.values(batch.Y)]);
  });

  it('feeds each batch only to the tasks it labels, and one part per task and dataset of a step', () => {
    const model = fixedModel();
    const d1 = batchOf('ds1', X, { a: [0, 1, 0, 1] });
    const d2 = batchOf('ds2', X, { b: [1, 1, 0, 0] });
    tf.tidy(() => {
      const { parts, extra } = model.loss([d1, d2], { step: 0, epoch: 0, seed: 0, training: true });
      expect(Object.keys(parts)).toEqual(['a/ds1', 'b/ds2']);
      expect(extra).toBeUndefined();
      expect(parts['a/ds1']!.dataSync()[0]).toBeCloseTo(handLoss(X, [0, 1, 0, 1]), 5);
    });
    const { grads, value } = tf.variableGrads(
      () => model.loss(d1, { step: 0, epoch: 0, seed: 0, training: true }).parts['a/ds1']!,
      model.trainableVariables(),
    );
    expect(Object.keys(grads).sort()).toEqual(['a_head/bias', 'a_head/kernel', 'base/bias', 'base/kernel']);
    tf.dispose([value, ...Object.values(grads)]);
    const stray = batchOf('ds3', X, { c: [0, 1, 0, 1] });
    expect(() =>
      tf.tidy(() => void model.loss(stray, { step: 0, epoch: 0, seed: 0, training: true })),
    ).toThrow('dataset ds3/train: the batch has labels c but no task reads them (tasks read a, b)');
    for (const b of [d1, d2, stray]) tf.dispose([...Object.values(b.X), ...Object.values(b.Y)]);
  });

  it(`has the gradient of its formula through shared modules on ${tf.getBackend()} (finite differences)`, () => {
    const trunk = mlp({ inputSize: 2, hidden: [5], activation: 'tanh', seed: 1 });
    const t = new Task({
      name: 'a',
      modulePool: { trunk, head: dense({ inputSize: 5, units: 3 }) },
      opSequence: [
        { moduleName: 'trunk', inputs: [['_input_', 'x']] },
        { moduleName: 'head', inputs: ['trunk'] },
      ],
    });
    const model = track(new MultitaskModel([t], { seed: 2 }));
    const batch = batchOf('d', X, { a: [2, -1, 0, 1] });
    const loss = () => model.loss(batch, { step: 0, epoch: 0, seed: 0, training: true }).parts['a/d']!;
    for (const v of model.trainableVariables()) expect(gradientGap(loss, v), v.name).toBeLessThan(1e-2);
    tf.dispose([...Object.values(batch.X), ...Object.values(batch.Y)]);
  });
});

describe('MultitaskModel: predict, score, evaluate', () => {
  function twoTasks(): MultitaskModel {
    const base = dense({ inputSize: 2, units: 3 });
    return track(new MultitaskModel([headTask('a', base), headTask('b', base, 'z')], { seed: 4 }));
  }

  it('predicts golds, probs and preds; on unlabeled batches, the tasks whose fields are present', async () => {
    const model = twoTasks();
    const labeled = [batchOf('ds', X, { a: [0, 1, -1, 1] })];
    const p = await model.predict(labeled, { returnPreds: true });
    expect(Object.keys(p)).toEqual(['a']);
    expect(p.a!.golds).toEqual(Int32Array.from([0, 1, -1, 1]));
    expect(p.a!.probs.length).toBe(4);
    const preds = p.a!.preds as Int32Array;
    p.a!.probs.forEach((row, i) => {
      expect(preds[i]).toBe(row[1]! > row[0]! ? 1 : 0);
    });
    const unlabeled = [handBatch('u', 'test', { x: tf.tensor2d(X) })];
    const q = await model.predict(unlabeled);
    expect(Object.keys(q)).toEqual(['a']);
    expect(q.a!.golds).toBeUndefined();
    expect(q.a!.preds).toBeUndefined();
    expect(q.a!.probs).toEqual(p.a!.probs);
    const both = [handBatch('u', 'test', { x: tf.tensor2d(X), z: tf.tensor2d(X) })];
    expect(Object.keys(await model.predict(both))).toEqual(['a', 'b']);
    const neither = [handBatch('u', 'test', { w: tf.tensor2d(X) })];
    await expect(model.predict(neither)).rejects.toThrow(
      /no task can read this batch: fields w; tasks read a \(x\), b \(z\)/,
    );
    const chosen = [handBatch('u', 'test', { x: tf.tensor2d(X), z: tf.tensor2d(X) })];
    expect(Object.keys(await model.predict(chosen, { tasks: ['b'] }))).toEqual(['b']);
  });

  it('scores task/dataset/split/metric plus losses; all-abstain groups are left out; no leaks', async () => {
    const model = twoTasks();
    const make = () => [
      [
        batchOf('dsA', X, { a: [0, 1, 1, 0] }, 'valid'),
        batchOf('dsA', X.slice(0, 2), { a: [1, 1] }, 'valid'),
      ],
      [handBatch('dsB', 'valid', { z: tf.tensor2d(X) }, { b: tf.tensor1d([-1, -1, -1, -1], 'int32') })],
    ];
    const predictions = await model.predict(make()[0]!, { returnPreds: true });
    const golds = predictions.a!.golds as Int32Array;
    const preds = predictions.a!.preds as Int32Array;
    const accuracy = golds.filter((g, i) => g === preds[i]).length / golds.length;
    const scores = await assertNoLeaks(() => model.score(make()));
    expect(Object.keys(scores).sort()).toEqual([
      'a/dsA/valid/accuracy',
      'a/dsA/valid/loss',
      'model/all/valid/loss',
    ]);
    expect(scores['a/dsA/valid/accuracy']).toBeCloseTo(accuracy, 10);
    expect(scores['a/dsA/valid/loss']).toBeCloseTo(predictions.a!.loss!, 6);
    expect(scores['model/all/valid/loss']).toBeCloseTo(predictions.a!.loss!, 6);
  });

  it('evaluate matches the split exactly (valid is not valid_2), reading unnamed loaders batch by batch', async () => {
    const model = twoTasks();
    const named = (split: string) =>
      Object.assign([batchOf(`ds_${split}`, X, { a: [0, 1, 1, 0] }, split)], {
        dataset: { name: `ds_${split}`, split },
      });
    const unnamed = () => [
      batchOf('mixed', X, { a: [0, 1, 1, 0] }, 'valid_2'),
      batchOf('mixed', X, { a: [0, 1, 1, 0] }, 'valid'),
    ];
    const skipped = named('valid_2');
    const scores = await assertNoLeaks(() => model.evaluate([named('valid'), skipped, unnamed()], 'valid'));
    expect(Object.keys(scores).sort()).toEqual([
      'a/ds_valid/valid/accuracy',
      'a/ds_valid/valid/loss',
      'a/mixed/valid/accuracy',
      'a/mixed/valid/loss',
      'model/all/valid/loss',
    ]);
    tf.dispose([...Object.values(skipped[0]!.X), ...Object.values(skipped[0]!.Y)]); // never read
  });
});

describe('MultitaskModel: weights, save and load', () => {
  function model1(prefix = ''): MultitaskModel {
    const base = dense({ inputSize: 2, units: 3 });
    return track(
      new MultitaskModel([headTask('a', base), headTask('b', base)], { seed: 9, variablePrefix: prefix }),
    );
  }

  it('getWeights/setWeights by <module>/<param>, partially, checking names and shapes first', () => {
    const model = model1();
    const w = model.getWeights();
    expect(Object.keys(w)).toEqual([
      'base/kernel',
      'base/bias',
      'a_head/kernel',
      'a_head/bias',
      'b_head/kernel',
      'b_head/bias',
    ]);
    tf.dispose(Object.values(w));
    tf.tidy(() => model.setWeights({ 'a_head/bias': tf.tensor1d([3, 4]) }));
    expect(Array.from(model.modulePool.get('a_head')!.variables().bias!.dataSync())).toEqual([3, 4]);
    expect(() => tf.tidy(() => model.setWeights({ 'c_head/bias': tf.zeros([2]) }))).toThrow(
      'setWeights: no module owns weight "c_head/bias" (modules: a_head, b_head, base)',
    );
    expect(() =>
      tf.tidy(() => model.setWeights({ 'a_head/bias': tf.zeros([2]), 'b_head/bias': tf.zeros([3]) })),
    ).toThrow('setWeights: module "b_head" parameter "bias" has shape [2] but the weights have [3]');
    // Nothing was assigned: the checks run first.
    expect(Array.from(model.modulePool.get('a_head')!.variables().bias!.dataSync())).toEqual([3, 4]);
  });

  it('round-trips custom losses only when passed again, and restores frozen modules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtl-tasks-'));
    const path = join(dir, 'nested', 'm.json');
    const base = dense({ inputSize: 2, units: 3 });
    // Multiclass hinge on one-hot targets: sum over classes of max(0, 1 - z_c * (2 t_c - 1)).
    const hinge = ({ outputs, targets }: { outputs: tf.Tensor; targets: tf.Tensor }) =>
      tf.sum(tf.relu(tf.sub(1, tf.mul(outputs, tf.sub(tf.mul(targets, 2), 1)))), 1);
    const model = track(
      new MultitaskModel([headTask('a', base, 'x', { loss: hinge, weight: 0.5 }), headTask('b', base)], {
        seed: 1,
      }),
    );
    model.freeze(['base']);
    await model.save(path);
    const saved = await readSavedModel(path);
    expect(saved.tasks[0]).toMatchObject({ name: 'a', customLoss: true, weight: 0.5 });
    await expect(MultitaskModel.load(path, { variablePrefix: 'l/' })).rejects.toThrow(
      /task a: was saved with a custom loss, which cannot be serialised: pass it again/,
    );
    const loaded = track(await MultitaskModel.load(path, { variablePrefix: 'l/', losses: { a: hinge } }));
    expect(loaded.frozenModules).toEqual(['base']);
    expect(loaded.taskWeights()).toEqual({ a: 0.5, b: 1 });
    const batch = batchOf('d', X, { a: [0, 1, 1, 0] });
    tf.tidy(() => {
      const l1 = model
        .loss(batch, { step: 0, epoch: 0, seed: 0, training: true })
        .parts['a/d']!.dataSync()[0];
      const l2 = loaded
        .loss(batch, { step: 0, epoch: 0, seed: 0, training: true })
        .parts['a/d']!.dataSync()[0];
      expect(l2).toBe(l1);
    });
    tf.dispose([...Object.values(batch.X), ...Object.values(batch.Y)]);
  });

  it('names the module on a tampered shape; corrupt and missing files are errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtl-tasks-'));
    const path = join(dir, 'm.mtl');
    const model = model1();
    await model.save(path);
    const saved = await readSavedModel(path);
    saved.modules.a_head!.weights.bias!.shape = [1, 2];
    await saveArtifacts(join(dir, 'bad.mtl'), savedModelArtifacts(saved));
    await expect(MultitaskModel.load(join(dir, 'bad.mtl'), { variablePrefix: 'x/' })).rejects.toMatchObject({
      code: 'CHECKPOINT_MISMATCH',
      message: expect.stringContaining(
        'module "a_head" parameter "bias" has shape [2] but the saved one has [1,2]',
      ),
    });
    // One changed bit in a weight, with the checksum left as it was: refused.
    const bytes = readFileSync(path);
    bytes[bytes.length - 40] = bytes[bytes.length - 40]! ^ 1;
    writeFileSync(join(dir, 'edited.mtl'), bytes);
    await expect(MultitaskModel.load(join(dir, 'edited.mtl'))).rejects.toMatchObject({
      code: 'CHECKPOINT_CORRUPT',
      message: expect.stringContaining('SHA-256 checksum mismatch'),
    });
    writeFileSync(join(dir, 'plain.json'), JSON.stringify({ seed: 0, tasks: [], modules: {} }));
    await expect(MultitaskModel.load(join(dir, 'plain.json'))).rejects.toMatchObject({
      code: 'CHECKPOINT_CORRUPT',
    });
    writeFileSync(join(dir, 'trunc.mtl'), readFileSync(path).subarray(0, 100));
    await expect(MultitaskModel.load(join(dir, 'trunc.mtl'))).rejects.toMatchObject({
      code: 'CHECKPOINT_CORRUPT',
    });
    // A model file of the earlier release (checksummed JSON, format version 1): refused by version.
    writeFileSync(
      join(dir, 'v1.json'),
      checksummedJson({ format: 'mtl-multitask-model', version: 1, seed: 0, tasks: [], modules: {} }),
    );
    await expect(MultitaskModel.load(join(dir, 'v1.json'))).rejects.toMatchObject({
      code: 'FORMAT_VERSION',
      message: `${join(dir, 'v1.json')}: is format "mtl-multitask-model" version 1; this release reads "mtl-saved" version 2 (files of earlier releases are not converted: train again)`,
    });
    // A file of another model kind: refused by kind.
    await saveArtifacts(join(dir, 'ckpt.mtl'), makeArtifacts('checkpoint', {}, []));
    await expect(MultitaskModel.load(join(dir, 'ckpt.mtl'))).rejects.toMatchObject({
      code: 'CHECKPOINT_MISMATCH',
      message: `${join(dir, 'ckpt.mtl')}: holds a saved checkpoint, not a multitask (format mtl-saved version 2)`,
    });
    await expect(MultitaskModel.load(join(dir, 'none.json'))).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
    });
    // A failed load leaves no variables behind: the same prefix can be used again.
    const ok = track(await MultitaskModel.load(path, { variablePrefix: 'x/' }));
    expect(ok.trainableVariables()[0]!.name).toBe('x/base/kernel');
  });

  it('round-trips through memory:// and a file with identical predictions and no tensor left behind', async () => {
    const model = model1();
    const dir = mkdtempSync(join(tmpdir(), 'mtl-tasks-'));
    // predict disposes the batches it reads: one per call, made before the tensor counts.
    const batches = [0, 1, 2].map(() => [handBatch('d', 'test', { x: tf.tensor2d(X) })]);
    const batch = () => batches.shift()!;
    const want = await model.predict(batch(), { returnPreds: true });
    for (const [i, url] of ['memory://tasks-roundtrip', `file://${join(dir, 'm.mtl')}`].entries()) {
      const before = tf.memory().numTensors;
      expect(batches.length).toBe(2 - i);
      await model.save(url);
      expect(tf.memory().numTensors).toBe(before);
      const loaded = await MultitaskModel.load(url, { variablePrefix: `rt${i}/` });
      expect(await loaded.predict(batch(), { returnPreds: true })).toEqual(want);
      loaded.dispose();
      expect(tf.memory().numTensors).toBe(before - 1);
    }
  });

  it('saves and loads a tf.layers module', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mtl-tasks-'));
    const t = new Task({
      name: 'a',
      modulePool: {
        enc: layersModule(tf.layers.dense({ units: 3, activation: 'relu' }), { inputShape: [2] }),
        a_head: dense({ inputSize: 3, units: 2 }),
      },
      opSequence: [
        { moduleName: 'enc', inputs: [['_input_', 'x']] },
        { moduleName: 'a_head', inputs: ['enc'] },
      ],
    });
    const model = track(new MultitaskModel([t]));
    await model.save(join(dir, 'm.json'));
    const loaded = track(await MultitaskModel.load(join(dir, 'm.json'), { variablePrefix: 'copy/' }));
    const p1 = await model.predict([handBatch('u', 'test', { x: tf.tensor2d(X) })]);
    const p2 = await loaded.predict([handBatch('u', 'test', { x: tf.tensor2d(X) })]);
    expect(p2).toEqual(p1);
    expect(loaded.trainableVariables().map((v) => v.name)).toContain('copy/enc/kernel');
  });
});
