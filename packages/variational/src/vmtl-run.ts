import { join } from 'node:path';
import { MtlError, type RandomStream } from '@mtl/core';
import { disposeBatch, StackedLoader } from '@mtl/data';
import type { RunModel, WarmStart } from '@mtl/tasks';
import { type TemperatureSpec, VmtlModel } from '@mtl/variational';
import * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import type { MtlConfigOf, taskSchemas, vmtlModelSchema } from '../config/schema.js';
import type { TaskData } from './data.js';
import { buildDeepVmtlRun } from './deep-vmtl-run.js';
import { MODEL_FILE } from './multitask-run.js';
import { allRows, firstRows } from './rows.js';

type VmtlConfig = z.infer<typeof vmtlModelSchema>;
type TaskConfig = z.infer<typeof taskSchemas.vmtl>;

/**
 * VMTL's Bernoulli likelihood has no mask: a row without a label (-1, an empty cell) would be read as
 * a class. Such rows are refused before anything is built.
 */
function refuseAbstains(name: string, data: TaskData): void {
  for (const [split, ds] of Object.entries(data.splits)) {
    const values = ds.labelValues(data.label);
    const row = values.findIndex((v) => v === -1 || Number.isNaN(v));
    if (row >= 0) {
      throw new MtlError(
        'LABEL_OUT_OF_RANGE',
        `label "${data.label}" is missing at row ${row} of split ${split}: a vmtl task needs a label on every row (its likelihood cannot mask an abstain); drop the unlabeled rows or use model kind multitask`,
        { place: `tasks.${name}.label` },
      );
    }
  }
}

/**
 * Adapter of @mtl/variational's VmtlModel (Bayesian logistic regression per task with a
 * Gumbel-softmax mixture prior, or the N(0, I) solo baseline) for the commands. Tasks read one
 * vector input field (the same name in every task) and a 0/1 label. One training step holds a
 * sub-batch of every task (@mtl/data's StackedLoader: an epoch follows the largest task; smaller
 * ones reshuffle and cycle).
 */
export function buildVmtlRun(
  config: MtlConfigOf<'vmtl'>,
  modelConfig: VmtlConfig,
  tasks: Readonly<Record<string, TaskConfig>>,
  taskData: Readonly<Record<string, TaskData>>,
  rng: RandomStream,
): RunModel {
  const names = Object.keys(tasks);
  // Tasks with an operation sequence are deep VMTL (a trunk, a latent, a Bayesian classifier).
  if (names.some((n) => tasks[n]!.ops !== undefined)) {
    return buildDeepVmtlRun(config, modelConfig, tasks, taskData, rng);
  }
  let inputField: string | undefined;
  let inputDim = 0;
  for (const name of names) {
    const data = taskData[name]!;
    const place = `tasks.${name}.input`;
    if (data.inputs.length !== 1) {
      throw new MtlError('CONFIG_INVALID', 'a vmtl task reads exactly one vector input field', { place });
    }
    const field = data.inputs[0]!;
    const shape = data.splits.train!.fieldInfo(field).rowShape;
    if (shape.length !== 1) {
      throw new MtlError(
        'DATA_SHAPE_MISMATCH',
        `input "${field}" must be a vector field, got rows of shape [${shape.join(', ')}]`,
        {
          place,
        },
      );
    }
    if (inputField !== undefined && (field !== inputField || shape[0] !== inputDim)) {
      throw new MtlError(
        'CONFIG_INVALID',
        `every vmtl task reads the same input field and size: "${field}" [${shape[0]}] vs "${inputField}" [${inputDim}]`,
        { place },
      );
    }
    inputField = field;
    inputDim = shape[0]!;
    refuseAbstains(name, data);
  }
  const model = new VmtlModel({
    tasks: names.map((name) => ({
      name,
      dataset: taskData[name]!.datasetName,
      trainSize: taskData[name]!.splits.train!.length,
      label: taskData[name]!.label,
    })),
    inputDim,
    inputField: inputField!,
    prior: modelConfig.prior,
    classifierSamples: modelConfig.classifierSamples,
    latentSamples: modelConfig.latentSamples,
    klSamples: modelConfig.klSamples,
    classifierKl: modelConfig.classifierKl,
    detachPrior: modelConfig.detachPrior,
    klWeight: modelConfig.klWeight,
    gumbelNoise: modelConfig.gumbelNoise,
    predictiveSamples: modelConfig.predictiveSamples,
    seed: rng.childSeed('predictive'),
    ...(modelConfig.temperature === undefined
      ? {}
      : {
          temperature:
            typeof modelConfig.temperature === 'number'
              ? modelConfig.temperature
              : (Object.fromEntries(
                  Object.entries(modelConfig.temperature).filter(([, v]) => v !== undefined),
                ) as TemperatureSpec),
        }),
    ...(modelConfig.mixingInit === undefined ? {} : { mixingInit: modelConfig.mixingInit }),
  });
  const splits = [...new Set(names.flatMap((n) => Object.keys(taskData[n]!.splits)))];
  const scoreSplit = (split: string): Record<string, number> => {
    const batches = names.flatMap((n) => {
      const ds = taskData[n]!.splits[split];
      return ds === undefined ? [] : [allRows(ds)];
    });
    try {
      return batches.length === 0 ? {} : model.score(batches);
    } finally {
      disposeBatch(batches);
    }
  };
  // Without the model's name prefix: the names the saved model and the warm-start report use.
  const variableNames = () => model.trainableVariables().map((v) => v.name.slice(v.name.indexOf('/') + 1));

  return {
    kind: 'vmtl',
    trainable: model,
    taskNames: names,
    moduleNames: variableNames,
    trainSource: () =>
      new StackedLoader(
        names.map((n) => taskData[n]!.splits.train!),
        {
          batchSize: config.training.batchSize,
          shuffle: config.training.shuffle,
          seed: rng.childSeed('stacked'),
        },
      ),
    async checkSplit(split) {
      const has = (n: string) => (taskData[n]!.splits[split]?.length ?? 0) > 0;
      if (!names.some(has)) return;
      // A VMTL step holds a batch of every task: tasks without this split lend their train rows.
      const step = names.map((n) =>
        firstRows(taskData[n]!.splits[has(n) ? split : 'train']!, config.training.batchSize),
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
    async predict(task, dataset) {
      const t = names.indexOf(task);
      const batch = allRows(dataset);
      try {
        const inputs = names.map((_, i) => (i === t ? batch.X[inputField!]! : tf.zeros([1, inputDim])));
        const probs = model.predictProba(inputs);
        const p = probs[t]!.dataSync();
        tf.dispose(probs);
        inputs.forEach((x, i) => {
          if (i !== t) x.dispose();
        });
        const rows = Array.from(p, (q) => Float32Array.of(1 - q, q));
        return { probs: rows, preds: Array.from(p, (q) => (q > 0.5 ? 1 : 0)) };
      } finally {
        disposeBatch(batch);
      }
    },
    mixing: () => {
      const m = model.mixing();
      return m.alpha === null ? null : { tasks: names, alpha: m.alpha, beta: m.beta };
    },
    dispose: () => model.dispose(),
  };
}
