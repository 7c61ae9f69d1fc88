import { RandomStream } from '@mtl/core';
import { caught } from '@mtl/core/testing';
import { DictDataLoader, DictDataset } from '@mtl/data';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  addSliceLabels,
  buildMultitaskModel,
  type ModuleEntry,
  MultitaskModel,
  type MultitaskTaskEntry,
  multitaskRun,
  type SliceCombiner,
  splitSliceMasks,
  type TaskData,
  withSliceLabels,
} from './index.js';
import { gradientGap, handBatch, plainFit } from './test-utils.js';

/**
 * Points in [-1, 1]²: y = 1 where x₀ + x₁/2 > 0, flipped in the corner x₀, x₁ > 0.6 (4 % of the
 * rows), which a plain model of this size mostly gets wrong after a short training.
 */
function points(n: number, split: string, seed: number): DictDataset {
  const rng = new RandomStream(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = rng.next() * 2 - 1;
    const b = rng.next() * 2 - 1;
    const flip = a > 0.6 && b > 0.6;
    x.push([a, b]);
    y.push(a + 0.5 * b > 0 !== flip ? 1 : 0);
  }
  return new DictDataset('pts', split, { x }, { y: Int32Array.from(y) }, { numClasses: 2 });
}

const corner = {
  all: [
    { field: 'x', index: 0, gt: 0.6 },
    { field: 'x', index: 1, gt: 0.6 },
  ],
};
const modules: Record<string, ModuleEntry> = {
  trunk: { kind: 'mlp', hidden: [16, 8], activation: 'relu' },
  head: { kind: 'dense', units: 2 },
};
const entry = (aware: boolean): Record<string, MultitaskTaskEntry> => ({
  y: {
    kind: 'multiclass',
    ops: ['trunk', 'head'],
    weight: 1,
    ...(aware ? { sliceAware: { slices: ['corner'] } } : {}),
  },
});

function data(n = 1000): { plain: Record<string, TaskData>; aware: Record<string, TaskData> } {
  const splits = { train: points(n, 'train', 1), test: points(1000, 'test', 3) };
  const base: Record<string, TaskData> = {
    y: { source: 'pts', datasetName: 'pts', splits, inputs: ['x'], label: 'y' },
  };
  const masks = splitSliceMasks(splits, { corner }, 'tasks.y.slices');
  return { plain: { y: { ...base.y!, slices: masks } }, aware: withSliceLabels(base, 'y', masks) };
}

describe('the slice-aware model', () => {
  it('adds an indicator and a predictor task per slice (base slice included) sharing the trunk by name', () => {
    const { aware } = data(200);
    expect(Object.keys(aware)).toEqual(['y', 'y.ind.base', 'y.pred.base', 'y.ind.corner', 'y.pred.corner']);
    const { model, modules: names } = buildMultitaskModel(entry(true), aware, modules, 4);
    expect(model.taskNames).toEqual(['y', 'y.ind.base', 'y.ind.corner', 'y.pred.base', 'y.pred.corner']);
    expect(names).toEqual([
      'trunk',
      'head',
      'y.ind.base',
      'y.ind.corner',
      'y.expert.base',
      'y.expert.corner',
      'y.pred_head',
      'y.combiner',
    ]);
    const groups = Object.fromEntries(model.parameterGroups().map((g) => [g.name, g.tasks]));
    expect(groups.trunk).toEqual(['y', 'y.ind.base', 'y.ind.corner', 'y.pred.base', 'y.pred.corner']);
    expect(groups['y.pred_head']).toEqual(['y', 'y.pred.base', 'y.pred.corner']);
    expect(groups.head).toEqual(['y']);
    // The experts default to a linear map of the head's input width (8), the indicators to 1 logit.
    expect(model.parameterCount()).toBe(2 * 16 + 16 + 16 * 8 + 8 + (8 * 2 + 2) + 2 * 9 + 2 * 72 + 18);
    // The indicator labels are the masks, the predictor labels abstain outside the slice.
    const train = aware.y!.splits.train!;
    const inCorner = train.labelValues('y.ind.corner');
    const pred = train.labelValues('y.pred.corner');
    const y = train.labelValues('y');
    let members = 0;
    for (let r = 0; r < train.length; r++) {
      expect(pred[r]).toBe(inCorner[r] ? y[r] : -1);
      members += inCorner[r]!;
    }
    expect(members).toBeGreaterThan(0);
    expect(Array.from(train.labelValues('y.ind.base'))).toEqual(new Array(train.length).fill(1));
    // Every task reads the same dataset object: one loader feeds them all.
    expect(aware['y.pred.corner']!.splits.train).toBe(train);
    model.dispose();
  });

  it('computes the task from the combined slice representations, as assembled by hand', () => {
    const { aware } = data(200);
    const { model } = buildMultitaskModel(entry(true), aware, modules, 4);
    const pool = model.modulePool;
    const ctx = { training: false, seed: 0 };
    const x = tf.tensor2d([
      [0.7, 0.8],
      [-0.2, 0.4],
      [0.1, -0.9],
    ]);
    const batch = handBatch('pts', 'test', { x });
    tf.tidy(() => {
      const run = (m: string, ins: tf.Tensor[]) => pool.get(m)!.apply(ins, ctx) as tf.Tensor;
      const rep = run('trunk', [x]);
      const slices = ['base', 'corner'];
      const experts = slices.map((s) => run(`y.expert.${s}`, [rep]));
      const ins = [
        ...slices.map((s) => run(`y.ind.${s}`, [rep])),
        ...experts.map((e) => run('y.pred_head', [e])),
        ...experts,
      ];
      const a = (pool.get('y.combiner') as SliceCombiner).attention(ins);
      // Σ_s a_s · expert_s, then the head
      const mixed = tf.add(
        tf.mul(tf.slice(a, [0, 0], [-1, 1]), experts[0]!),
        tf.mul(tf.slice(a, [0, 1], [-1, 1]), experts[1]!),
      );
      const expected = run('head', [mixed]).arraySync() as number[][];
      const got = model.forward(batch, { tasks: ['y'] }).y!.arraySync() as number[][];
      got.forEach((row, r) => {
        row.forEach((v, c) => {
          expect(v).toBeCloseTo(expected[r]![c]!, 5);
        });
      });
      const sums = tf.sum(a, 1).arraySync() as number[];
      for (const s of sums) expect(s).toBeCloseTo(1, 6);
    });
    // The task's loss reaches the indicator heads through the attention: gradients match finite differences.
    const step = handBatch('pts', 'test', { x }, { y: tf.tensor1d([1, 0, 1], 'int32') });
    const loss = () => model.loss(step, { step: 0, epoch: 0, seed: 0, training: false }).parts['y/pts']!;
    const vars = Object.fromEntries(model.trainableVariables().map((v) => [v.name, v]));
    for (const name of ['y.ind.corner/kernel', 'y.expert.corner/kernel', 'y.pred_head/bias']) {
      expect(gradientGap(loss, vars[name]!, 1e-2), name).toBeLessThan(2e-2);
    }
    tf.dispose([x, step.Y.y!]);
    model.dispose();
  });

  it('trains, scores the task per slice (and only the task), saves and loads with the same scores; no leaks', async () => {
    const before = tf.memory().numTensors;
    const { aware } = data(300);
    const rng = new RandomStream(1);
    const { model, modules: names } = buildMultitaskModel(entry(true), aware, modules, 1);
    const batching = { batchSize: 32, scheduler: 'shuffled', shuffle: true } as const;
    const run = multitaskRun(model, names, aware, batching, rng);
    const train = new DictDataLoader(aware.y!.splits.train!, { batchSize: 32, shuffle: true, seed: 1 });
    const untrained = await run.evaluate('test');
    plainFit(model, [train], { epochs: 3, lr: 0.01, seed: 1 });
    const scores = await run.evaluate('test');
    const key = (m: string) => `y/pts/test/${m}`;
    // The slice's accuracy is the accuracy of the test rows in the corner (counted here by hand).
    const masks = aware.y!.slices!.test!.corner!;
    const predictions = await model.predict(new DictDataLoader(aware.y!.splits.test!, { batchSize: 64 }), {
      tasks: ['y'],
      returnPreds: true,
    });
    const p = predictions.y!;
    let hits = 0;
    let members = 0;
    p.indices.forEach((row, i) => {
      if (!masks[row]) return;
      members++;
      if (p.preds![i] === p.golds![i]) hits++;
    });
    expect(members).toBe(44);
    expect(scores[key('slice:corner:accuracy')]).toBe(hits / members);
    expect(scores[key('slice:corner:accuracy')]).not.toBe(untrained[key('slice:corner:accuracy')]);
    expect(Object.keys(scores).filter((k) => k.includes('/slice:'))).toEqual([key('slice:corner:accuracy')]);
    // The indicators are scored by F1, the predictors on their slice's rows only.
    expect(Object.keys(scores).filter((k) => k.startsWith('y.ind.corner/'))).toEqual([
      'y.ind.corner/pts/test/f1',
      'y.ind.corner/pts/test/accuracy',
      'y.ind.corner/pts/test/loss',
    ]);
    await run.save('memory://slice-aware');
    const again = await MultitaskModel.load('memory://slice-aware/model.mtl', { variablePrefix: 'again/' });
    const rerun = multitaskRun(again, names, aware, batching, rng);
    expect(await rerun.evaluate('test')).toEqual(scores);
    again.dispose();
    run.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses what it cannot make, naming the place', () => {
    const { plain, aware } = data(200);
    // Slice labels missing from the data.
    let e = caught(() => buildMultitaskModel(entry(true), { y: plain.y! }, modules, 1));
    expect([e.code, e.place]).toEqual(['CONFIG_INVALID', 'tasks.y.sliceAware']);
    expect(e.reason).toMatch(/no slice labels y.ind.base, y.ind.corner: add them with withSliceLabels/);
    // A head with nothing before it.
    e = caught(() =>
      buildMultitaskModel(
        { y: { kind: 'multiclass', ops: ['head'], weight: 1, sliceAware: { slices: ['corner'] } } },
        aware,
        modules,
        1,
      ),
    );
    expect([e.code, e.place]).toEqual(['CONFIG_INVALID', 'tasks.y.sliceAware']);
    // A generated name already taken.
    e = caught(() =>
      buildMultitaskModel(
        {
          y: {
            kind: 'multiclass',
            ops: ['trunk', 'y.combiner', 'head'],
            weight: 1,
            sliceAware: { slices: ['corner'] },
          },
        },
        aware,
        { ...modules, 'y.combiner': { kind: 'activation', fn: 'relu' } },
        1,
      ),
    );
    expect([e.code, e.reason]).toEqual([
      'DUPLICATE_NAME',
      'the slice-aware model names its modules y.combiner, which the task already uses: rename them',
    ]);
    // An expert narrower than what the head reads.
    e = caught(() =>
      buildMultitaskModel(
        {
          y: {
            kind: 'multiclass',
            ops: ['trunk', 'head'],
            weight: 1,
            sliceAware: { slices: ['corner'], expert: { kind: 'dense', units: 4 } },
          },
        },
        aware,
        modules,
        1,
      ),
    );
    expect([e.code, e.place, e.reason]).toEqual([
      'CONFIG_INVALID',
      'tasks.y.sliceAware',
      'the slice expert outputs rows of 4 values, but head "head" reads 8: give the expert 8 output units',
    ]);
    // An empty slice on train, a regression label.
    const splits = plain.y!.splits;
    const none = {
      train: { corner: new Uint8Array(splits.train!.length) },
      test: { corner: new Uint8Array(1000) },
    };
    e = caught(() => withSliceLabels({ y: plain.y! }, 'y', none));
    expect([e.code, e.place]).toEqual(['DATA_EMPTY', 'tasks.y.slices.corner']);
    const reg = new DictDataset('r', 'train', { x: [[1], [2]] }, { t: Float32Array.from([0.5, 1.5]) });
    e = caught(() => addSliceLabels(reg, 't', 't', { s: Uint8Array.from([1, 0]) }));
    expect(e.reason).toMatch(
      /label "t" is regression: a slice-aware task learns class ids or class probabilities/,
    );
  });
});
