import { RandomStream, sgdStep } from '@mtl/core';
import { caught } from '@mtl/core/testing';
import { applyPreprocessing, DictDataset, fitPreprocessing, makeLogisticTasks } from '@mtl/data';
import type { RunModel, TaskData } from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildVmtlRun, type VmtlRunConfig, type VmtlRunModelOptions } from './vmtl-run.js';

const logistic = makeLogisticTasks({ tasks: 2, sizes: 60, dim: 2 }, 7);
const taskData: Record<string, TaskData> = Object.fromEntries(
  logistic.map((t) => [
    t.name,
    {
      source: 'logistic',
      datasetName: t.train.name,
      splits: { train: t.train, test: t.test },
      inputs: ['x'],
      label: t.name,
    },
  ]),
);
const names = logistic.map((t) => t.name);
const config: VmtlRunConfig = {
  modules: { trunk: { kind: 'mlp', hidden: [4], activation: 'tanh' } },
  seed: 5,
  training: { batchSize: 16, shuffle: true },
};
const model: VmtlRunModelOptions = {
  prior: 'mixture',
  classifierSamples: 2,
  latentSamples: 2,
  klSamples: 2,
  classifierKl: 'upperBound',
  detachPrior: true,
  temperature: { kind: 'exponential', initial: undefined, rate: 0.01 },
  klWeight: 1,
  gumbelNoise: true,
  predictiveSamples: 8,
  latentDim: 0,
  latentKl: 'momentMatched',
  latentStandardWeight: 0,
  latentKlWeight: 1,
  predictWith: 'predictive',
};
const elementary = Object.fromEntries(names.map((n) => [n, {}]));
const deep = Object.fromEntries(names.map((n) => [n, { ops: ['trunk'] }]));

/** One SGD step on the run's first stacked batch, so the saved weights are not the initial ones. */
function step(run: RunModel): void {
  sgdStep(run.trainable, run.trainSource(), { lr: 0.5 });
}

describe('buildVmtlRun: the VMTL run protocol from options', () => {
  for (const [kind, tasks] of [
    ['elementary', elementary],
    ['deep', deep],
  ] as const) {
    it(`${kind}: trains a step, saves to memory://, loads into a fresh run (same scores), predicts`, async () => {
      const before = tf.memory().numTensors;
      const run = buildVmtlRun(config, model, tasks, taskData, new RandomStream(3));
      expect(run.kind).toBe('vmtl');
      expect(run.taskNames).toEqual(names);
      expect(run.moduleNames()).toEqual(
        kind === 'deep'
          ? ['trunk', ...names.flatMap((n) => [`${n}.classifier`])]
          : ['classifier/posterior', 'mixing/alpha'],
      );
      await run.checkSplit('test');
      step(run);
      const scores = await run.scoreAll();
      expect(Object.keys(scores).sort()).toEqual(
        [
          ...names.flatMap((n) =>
            ['test', 'train'].flatMap((s) => ['accuracy', 'loss'].map((m) => `${n}/${n}Dataset/${s}/${m}`)),
          ),
          'model/all/test/loss',
          'model/all/train/loss',
        ].sort(),
      );
      // Σ weight·task loss (weights default to 1), as the Trainer logs model/all/train/loss.
      const sum = names.reduce((s, n) => s + scores[`${n}/${n}Dataset/test/loss`]!, 0);
      expect(scores['model/all/test/loss']).toBeCloseTo(sum, 10);
      await run.save(`memory://vmtl-run-${kind}`);
      expect(run.mixing()?.tasks).toEqual(names);
      run.dispose();
      const other = buildVmtlRun(config, model, tasks, taskData, new RandomStream(3));
      expect(await other.scoreAll()).not.toEqual(scores);
      await other.load(`memory://vmtl-run-${kind}`);
      expect(await other.scoreAll()).toEqual(scores);
      const p = await other.predict(names[1]!, logistic[1]!.test);
      expect(p.probs).toHaveLength(logistic[1]!.test.length);
      for (const row of p.probs) expect(row[0]! + row[1]!).toBeCloseTo(1, 5);
      other.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it("weighs the model-wide loss by the tasks' weights", async () => {
    const run = buildVmtlRun(
      config,
      model,
      { [names[0]!]: { weight: 3 }, [names[1]!]: {} },
      taskData,
      new RandomStream(3),
    );
    try {
      const s = await run.evaluate('test');
      const [a, b] = names.map((n) => s[`${n}/${n}Dataset/test/loss`]!);
      expect(s['model/all/test/loss']).toBeCloseTo(3 * a! + b!, 10);
    } finally {
      run.dispose();
    }
  });

  it('deep VMTL regression with a scaled label: mse and predictions in original units, loss on the scaled targets', async () => {
    const before = tf.memory().numTensors;
    // Per task y = offset_t + 40·x0 + N(0, 1): far from unit scale, each task its own scaler.
    const table = (task: number, split: string, n: number, seed: number) => {
      const rng = new RandomStream(seed);
      const x: number[][] = [];
      const y: number[] = [];
      for (let i = 0; i < n; i++) {
        const row = [rng.normal(), rng.normal()];
        x.push(row);
        y.push(100 * (task + 1) + 40 * row[0]! + rng.normal());
      }
      return new DictDataset(`r${task}`, split, { x }, { y }, { labelKinds: { y: 'regression' } });
    };
    const data: Record<string, TaskData> = {};
    const scaledData: Record<string, TaskData> = {};
    for (const t of [0, 1]) {
      const raw = { train: table(t, 'train', 40, t + 1), test: table(t, 'test', 20, t + 11) };
      const fitted = fitPreprocessing(raw.train, { labels: { y: 'standard' } });
      const splits = {
        train: applyPreprocessing(raw.train, fitted),
        test: applyPreprocessing(raw.test, fitted),
      };
      const entry = { source: 'r', datasetName: `r${t}`, splits, inputs: ['x'], label: 'y' };
      scaledData[`t${t}`] = entry;
      data[`t${t}`] = { ...entry, preprocessing: fitted };
    }
    const tasks = { t0: { ops: ['trunk'] }, t1: { ops: ['trunk'] } };
    // The same model (same seed) without the scalers: everything on the scaled targets.
    const plain = buildVmtlRun(config, model, tasks, scaledData, new RandomStream(3));
    const scaled = await plain.evaluate('test');
    const scaledPred = await plain.predict('t1', scaledData.t1!.splits.test!);
    plain.dispose();
    const run = buildVmtlRun(config, model, tasks, data, new RandomStream(3));
    try {
      const scores = await run.evaluate('test');
      for (const t of ['t0', 't1']) {
        const s = data[t]!.preprocessing!.labels.y!.scale[0]!;
        expect(s).toBeGreaterThan(30);
        const key = `${t}/r${t.slice(1)}/test`;
        expect(scores[`${key}/mse`]! / (scaled[`${key}/mse`]! * s * s)).toBeCloseTo(1, 10);
        expect(scores[`${key}/loss`]).toBe(scaled[`${key}/loss`]);
      }
      const { offset, scale } = data.t1!.preprocessing!.labels.y!;
      const p = await run.predict('t1', data.t1!.splits.test!);
      expect(p.columns).toEqual(['value_0', 'variance']);
      p.probs.forEach((row, i) => {
        const [m, v] = scaledPred.probs[i]!;
        expect(row[0]! / (m! * scale[0]! + offset[0]!)).toBeCloseTo(1, 5);
        expect(row[1]! / (v! * scale[0]! ** 2)).toBeCloseTo(1, 5);
      });
    } finally {
      run.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('errors name the config paths of the options', () => {
    const unknown = caught(() =>
      buildVmtlRun(config, model, { ...deep, [names[1]!]: { ops: ['nope'] } }, taskData, new RandomStream(1)),
    );
    expect(unknown.code).toBe('UNKNOWN_MODULE');
    expect(unknown.place).toBe(`tasks.${names[1]}.ops[0]`);
    const mixed = caught(() =>
      buildVmtlRun(config, model, { ...deep, [names[0]!]: {} }, taskData, new RandomStream(1)),
    );
    expect(mixed.place).toBe(`tasks.${names[0]}.ops`);
  });
});
