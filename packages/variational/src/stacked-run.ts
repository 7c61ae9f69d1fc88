import { joinUrl as join, MtlError, type RandomStream } from '@mtl/core';
import { disposeBatch, StackedLoader } from '@mtl/data';
import { allRows, firstRows, MODEL_FILE, type RunModel, type TaskData, type WarmStart } from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import type { DeepVmtlModel } from './deep-vmtl.js';
import type { VmtlModel } from './vmtl-model.js';

/**
 * How a VMTL run batches its data (the `mtl` config's `training` section has these fields): one
 * step stacks a sub-batch of every task, so there is no scheduler.
 * @example
 * const training: VmtlRunTraining = { batchSize: 32, shuffle: true };
 */
export interface VmtlRunTraining {
  batchSize: number;
  /** Reshuffle every task's train rows each epoch (seeded); evaluation never shuffles. */
  shuffle: boolean;
}

/**
 * A number, or a schedule's options without the keys the config left present and undefined (the
 * schedules fill in their own defaults only for absent keys).
 */
export function withoutUndefined<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined)) as T;
}

/** The parts of the run protocol the elementary and the deep VMTL runs share. */
export type StackedRunParts = Omit<RunModel, 'moduleNames' | 'predict'>;

/**
 * The run protocol of a model whose step holds a sub-batch of every task (@mtl/data's
 * StackedLoader: an epoch follows the largest task; smaller ones reshuffle and cycle): training
 * source, preflight, scores, save/load/warm start ({@link MODEL_FILE} in a folder path or URL) and
 * mixing weights. `scoreSeed`, when given, seeds every score's predictive sampling.
 */
export function stackedRunParts(
  model: VmtlModel | DeepVmtlModel,
  names: readonly string[],
  taskData: Readonly<Record<string, TaskData>>,
  training: VmtlRunTraining,
  rng: RandomStream,
  scoreSeed?: number,
): StackedRunParts {
  const splits = [...new Set(names.flatMap((n) => Object.keys(taskData[n]!.splits)))];
  const scoreSplit = (split: string): Record<string, number> => {
    const batches = names.flatMap((n) => {
      const ds = taskData[n]!.splits[split];
      return ds === undefined ? [] : [allRows(ds)];
    });
    try {
      return batches.length === 0
        ? {}
        : model.score(batches, scoreSeed === undefined ? {} : { seed: scoreSeed });
    } finally {
      disposeBatch(batches);
    }
  };
  return {
    kind: 'vmtl',
    trainable: model,
    taskNames: [...names],
    trainSource: () =>
      new StackedLoader(
        names.map((n) => taskData[n]!.splits.train!),
        {
          batchSize: training.batchSize,
          shuffle: training.shuffle,
          seed: rng.childSeed('stacked'),
        },
      ),
    async checkSplit(split) {
      const has = (n: string) => (taskData[n]!.splits[split]?.length ?? 0) > 0;
      if (!names.some(has)) return;
      // A VMTL step holds a batch of every task: tasks without this split lend their train rows.
      const step = names.map((n) =>
        firstRows(taskData[n]!.splits[has(n) ? split : 'train']!, training.batchSize),
      );
      try {
        tf.tidy(() => {
          model.loss(step, { step: 0, epoch: 0, seed: 0, training: false });
        });
        model.score(step.filter((_, t) => has(names[t]!)));
      } catch (e) {
        if (e instanceof MtlError) throw e;
        throw new MtlError(
          'SHAPE_MISMATCH',
          `the model does not fit the ${split} split: ${(e as Error).message.split('\n')[0]}`,
          { place: 'tasks', cause: e },
        );
      } finally {
        disposeBatch(step);
      }
    },
    evaluate: async (split) => scoreSplit(split),
    async scoreAll() {
      const out: Record<string, number> = {};
      for (const split of splits) Object.assign(out, scoreSplit(split));
      return out;
    },
    save: (dir) => model.save(join(dir, MODEL_FILE)),
    warmStart: (dir): Promise<WarmStart> =>
      model.loadWeights(join(dir, MODEL_FILE), { onMismatch: 'reinit' }),
    async load(dir) {
      await model.loadWeights(join(dir, MODEL_FILE), { onMismatch: 'error' });
    },
    mixing: () => {
      const m = model.mixing();
      return m.alpha === null ? null : { tasks: [...names], alpha: m.alpha, beta: m.beta };
    },
    dispose: () => model.dispose(),
  };
}
