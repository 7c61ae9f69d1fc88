import { RandomStream } from '@mtl/core';
import { caught } from '@mtl/core/testing';
import { disposeBatch, makeCircleDatasets, makeSquareDatasets } from '@mtl/data';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { buildMultitaskModel, type ModuleEntry, type MultitaskTaskEntry } from './multitask-build.js';
import { MODEL_FILE, multitaskRun } from './multitask-run.js';
import type { TaskData } from './task-data.js';

const circle = makeCircleDatasets({ n: 120 }, 5);
const square = makeSquareDatasets({ n: 120 }, 5);
const taskData: Record<string, TaskData> = {
  circle_task: {
    source: 'circle',
    datasetName: 'circleDataset',
    splits: circle,
    inputs: ['circle_data'],
    label: 'circle_task',
  },
  square_task: {
    source: 'square',
    datasetName: 'squareDataset',
    splits: square,
    inputs: ['square_data'],
    label: 'square_task',
  },
};
const modules: Record<string, ModuleEntry> = {
  trunk: { kind: 'mlp', hidden: [6] },
  circle_head: { kind: 'dense', units: 2 },
  square_head: { kind: 'dense', units: 2 },
};
const tasks: Record<string, MultitaskTaskEntry> = {
  circle_task: { kind: 'multiclass', ops: ['trunk', 'circle_head'], weight: 1 },
  square_task: { kind: 'multiclass', ops: ['trunk', 'square_head'], weight: 2 },
};
const batching = { batchSize: 16, scheduler: 'shuffled', shuffle: true } as const;

function open(only: Record<string, MultitaskTaskEntry> = tasks, seed = 5): ReturnType<typeof multitaskRun> {
  const rng = new RandomStream(seed);
  const built = buildMultitaskModel(only, taskData, modules, rng.childSeed('init'));
  return multitaskRun(built.model, built.modules, taskData, batching, rng);
}

describe('the multitask run protocol, built from options', () => {
  it('builds, scores, saves to memory://, loads into a fresh run (same scores) and predicts in row order', async () => {
    const before = tf.memory().numTensors;
    const run = open();
    expect(run.kind).toBe('multitask');
    expect(run.moduleNames()).toEqual(['trunk', 'circle_head', 'square_head']);
    // Input width inferred from the field (2), one trunk shared: 2·6+6 + 2·(6·2+2) parameters.
    expect(run.trainable.trainableVariables().reduce((n, v) => n + v.size, 0)).toBe(18 + 28);
    await run.checkSplit('train');
    await run.checkSplit('no_such_split'); // a split no task has: a no-op
    const scores = await run.scoreAll();
    expect(Object.keys(scores)).toContain('circle_task/circleDataset/test/accuracy');
    // The task weights of the options weigh the model-wide loss.
    const valid = (t: string, d: string) => scores[`${t}/${d}/valid/loss`]!;
    expect(scores['model/all/valid/loss']).toBeCloseTo(
      valid('circle_task', 'circleDataset') + 2 * valid('square_task', 'squareDataset'),
      5,
    );
    expect(await run.evaluate('nothing')).toEqual({});
    // One step of the train source feeds the loss; the batches are the run's own.
    const step = run.trainSource().epoch(0, new RandomStream(1))[Symbol.iterator]().next().value!;
    expect(step[0]!.size).toBe(16);
    disposeBatch(step);
    await run.save('memory://run-protocol');
    const saved = await run.predict('circle_task', circle.test!);
    run.dispose();

    const other = open(tasks, 6); // other initial weights until loaded
    expect(await other.scoreAll()).not.toEqual(scores);
    await other.load('memory://run-protocol');
    expect(await other.scoreAll()).toEqual(scores);
    const p = await other.predict('circle_task', circle.test!);
    expect(p.probs).toHaveLength(circle.test!.length);
    expect(p.probs[0]).toHaveLength(2);
    expect(p.probs).toEqual(saved.probs);
    expect(Array.from(p.preds as ArrayLike<number>)).toEqual(
      p.probs.map((row) => (row[1]! > row[0]! ? 1 : 0)),
    );
    other.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('load refuses a saved model without a module of the run, naming the file; warmStart reports it', async () => {
    const one = open({ circle_task: tasks.circle_task! });
    await one.save('memory://one-task');
    one.dispose();
    const both = open();
    await expect(both.load('memory://one-task')).rejects.toMatchObject({
      code: 'CHECKPOINT_MISMATCH',
      place: `memory://one-task/${MODEL_FILE}`,
    });
    expect(await both.warmStart('memory://one-task')).toEqual({
      reused: ['trunk', 'circle_head'],
      new: ['square_head'],
      dropped: [],
      reshaped: [],
    });
    both.dispose();
  });

  it('errors name the options by their config paths', () => {
    const e = caught(() =>
      buildMultitaskModel(
        { circle_task: { kind: 'multiclass', ops: ['trunk', 'head'], weight: 1 } },
        taskData,
        modules,
        1,
      ),
    );
    expect(e.code).toBe('UNKNOWN_MODULE');
    expect(e.place).toBe('tasks.circle_task.ops[1]');
    const wide = caught(() =>
      buildMultitaskModel(
        { circle_task: tasks.circle_task! },
        taskData,
        { ...modules, trunk: { kind: 'mlp', inputSize: 3, hidden: [6] } },
        1,
      ),
    );
    expect(wide.code).toBe('DATA_SHAPE_MISMATCH');
    expect(wide.place).toBe('modules.trunk.inputSize');
    const unknownKind = caught(() =>
      buildMultitaskModel(
        { circle_task: tasks.circle_task! },
        taskData,
        { ...modules, trunk: { kind: 'lstm' } },
        1,
      ),
    );
    expect(unknownKind.place).toBe('modules.trunk');
  });
});
