import { MtlError, RandomStream } from '@mtl/core';
import { disposeBatch, makeLogisticTasks } from '@mtl/data';
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
  const batches = run.trainSource().epoch(0, new RandomStream(1))[Symbol.iterator]().next().value!;
  const sgd = tf.train.sgd(0.5);
  sgd.minimize(
    () =>
      tf.addN(
        Object.values(run.trainable.loss(batches, { step: 0, epoch: 0, seed: 0, training: true }).parts),
      ) as tf.Scalar,
    false,
    run.trainable.trainableVariables(),
  );
  sgd.dispose();
  disposeBatch(batches);
}

function caught(f: () => unknown): MtlError {
  try {
    f();
  } catch (e) {
    if (e instanceof MtlError) return e;
    throw e;
  }
  throw new Error('no error');
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
        names
          .flatMap((n) =>
            ['test', 'train'].flatMap((s) => ['accuracy', 'loss'].map((m) => `${n}/${n}Dataset/${s}/${m}`)),
          )
          .sort(),
      );
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
