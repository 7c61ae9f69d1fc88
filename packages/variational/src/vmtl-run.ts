import { isScoreKey, MtlError, parseScoreKey, type RandomStream } from '@mtl/core';
import { disposeBatch } from '@mtl/data';
import {
  allRows,
  labelScalerOf,
  type Module,
  type ModuleEntry,
  type OpEntry,
  type RunModel,
  type TaskData,
  withModelLosses,
  withOriginalUnits,
} from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { buildDeepVmtlRun } from './deep-vmtl-run.js';
import { stackedRunParts, type VmtlRunTraining, withoutUndefined } from './stacked-run.js';
import type { TemperatureSpec } from './temperature.js';
import { VmtlModel } from './vmtl-model.js';

/** Options as the mtl config leaves them: a key may be present and undefined. */
type Loose<T> = { [K in keyof T]?: T[K] | undefined };

/** A KL weight: a number, or a linear ramp over steps (deep VMTL's annealing). */
type KlAnnealEntry =
  | number
  | {
      kind: 'linear';
      from?: number | undefined;
      to?: number | undefined;
      steps: number;
      delay?: number | undefined;
    };

/**
 * What a VMTL run is built from besides its model options and tasks (the `mtl` config's top
 * level): the modules a deep task's `ops` name, the seed of their initial weights, and batching.
 * @example
 * const config: VmtlRunConfig = { modules: {}, seed: 1, training: { batchSize: 32, shuffle: true } };
 */
export interface VmtlRunConfig {
  /** Module options by name (deep VMTL trunks); unused by the elementary model. */
  modules: Readonly<Record<string, ModuleEntry>>;
  seed: number;
  training: VmtlRunTraining;
}

/**
 * A VMTL model by its options (the `mtl` config's `model` section of kind `vmtl`). The `latent*`,
 * `classifierKlWeight`, `classifierStandardComponent`, `predictWith` and `*LogScaleInit` options apply
 * to deep VMTL only.
 * @example
 * const model: VmtlRunModelOptions = {
 *   prior: 'mixture', classifierSamples: 10, latentSamples: 10, klSamples: 10, classifierKl: 'upperBound',
 *   detachPrior: true, klWeight: 1, gumbelNoise: true, predictiveSamples: 100, latentDim: 0,
 *   latentKl: 'momentMatched', latentStandardWeight: 0, latentKlWeight: 1, predictWith: 'predictive',
 * };
 */
export interface VmtlRunModelOptions {
  /** `mixture` = VMTL; `standardNormal` = the solo baseline (fixed N(0, I) prior, no mixing). */
  prior: 'mixture' | 'standardNormal';
  classifierSamples: number;
  latentSamples: number;
  klSamples: number;
  classifierKl: 'upperBound' | 'monteCarlo' | 'momentMatched' | 'momentMatchedMixture';
  detachPrior: boolean;
  temperature?: number | Loose<TemperatureSpec> | undefined;
  klWeight: number;
  gumbelNoise: boolean;
  mixingInit?: number | undefined;
  predictiveSamples: number;
  latentDim: number;
  latentKl: 'upperBound' | 'monteCarlo' | 'momentMatched' | 'momentMatchedMixture';
  latentStandardWeight: number;
  classifierStandardComponent?: boolean | undefined;
  classifierKlWeight?: KlAnnealEntry | undefined;
  latentKlWeight: KlAnnealEntry;
  predictWith: 'predictive' | 'posteriorMean';
  classifierLogScaleInit?: number | undefined;
  latentLogScaleInit?: number | undefined;
  latentPriorInputs?: 'sameInput' | 'sameClass' | undefined;
  shareLatent?: boolean | undefined;
  /** Deep VMTL: share the trunk (default: with the mixture prior only; solo copies it per task). */
  shareTrunk?: boolean | undefined;
}

/**
 * A task of a VMTL run by its options: with `ops` (a chain of module names, its trunk) the run is
 * deep VMTL; without, elementary VMTL (Bayesian logistic regression on one vector field).
 * @example
 * const task: VmtlTaskEntry = { ops: ['trunk'] };
 */
export interface VmtlTaskEntry {
  ops?: readonly OpEntry[] | undefined;
  /** Weight of the task's loss in `model/all/<split>/loss` (default 1), as the Trainer's taskWeights. */
  weight?: number | undefined;
}

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
 * The run protocol ({@link RunModel}) of a VMTL model. Without `ops` on any task it is a VmtlModel
 * (Bayesian logistic regression per task with a Gumbel-softmax mixture prior, or the N(0, I) solo
 * baseline): tasks read one vector input field (the same name in every task) and a 0/1 label on
 * every row. With `ops` on every task it is deep VMTL ({@link buildDeepVmtlRun}). One training
 * step holds a sub-batch of every task (@mtl/data's StackedLoader: an epoch follows the largest
 * task; smaller ones reshuffle and cycle). `save`/`load`/`warmStart` take a folder path or URL,
 * as multitaskRun's. Errors name config paths (`tasks.<name>.input`). Scores carry
 * `model/all/<split>/loss` (Σ task weight·task loss); a regression task (deep VMTL) whose
 * {@link TaskData} carries a label scaler predicts, and scores its `mse`, in original units.
 * `prebuilt`: deep-VMTL trunk modules already made, by name (e.g. a frozen encoder from
 * `loadLayersKind`), used instead of building `config.modules`' entry.
 * @example
 * const run = buildVmtlRun({ modules: {}, seed: 1, training }, model, { a: {}, b: {} }, taskData, new RandomStream(1));
 */
export function buildVmtlRun(
  config: VmtlRunConfig,
  modelConfig: VmtlRunModelOptions,
  tasks: Readonly<Record<string, VmtlTaskEntry>>,
  taskData: Readonly<Record<string, TaskData>>,
  rng: RandomStream,
  prebuilt: Readonly<Record<string, Module>> = {},
): RunModel {
  const names = Object.keys(tasks);
  const weights = Object.fromEntries(names.map((n) => [n, tasks[n]!.weight ?? 1]));
  const finish = (run: RunModel) =>
    withOriginalUnits(withModelLosses(withOriginalUnitMse(run, taskData), weights), taskData);
  // Tasks with an operation sequence are deep VMTL (a trunk, a latent, a Bayesian classifier).
  if (names.some((n) => tasks[n]!.ops !== undefined)) {
    return finish(buildDeepVmtlRun(config, modelConfig, tasks, taskData, rng, prebuilt));
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
      : { temperature: withoutUndefined(modelConfig.temperature) as number | TemperatureSpec }),
    ...(modelConfig.mixingInit === undefined ? {} : { mixingInit: modelConfig.mixingInit }),
  });
  // Without the model's name prefix: the names the saved model and the warm-start report use.
  const variableNames = () => model.trainableVariables().map((v) => v.name.slice(v.name.indexOf('/') + 1));

  return finish({
    ...stackedRunParts(model, names, taskData, config.training, rng),
    moduleNames: variableNames,
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
  });
}

/**
 * A deep VMTL regression's `mse` in its label's original units: the model learns standardised (or
 * min-max scaled) targets y' = (y - offset) / scale, so its squared errors are scale² times
 * smaller than in y's units. The `loss` stays the training objective's (on scaled targets), as a
 * multitask run's does.
 */
function withOriginalUnitMse(run: RunModel, taskData: Readonly<Record<string, TaskData>>): RunModel {
  const factors = new Map<string, number>();
  for (const [task, data] of Object.entries(taskData)) {
    const scaler = labelScalerOf(data);
    if (scaler !== undefined && scaler.scale.length === 1) factors.set(task, scaler.scale[0]! ** 2);
  }
  if (factors.size === 0) return run;
  const unscale = (scores: Record<string, number>): Record<string, number> =>
    Object.fromEntries(
      Object.entries(scores).map(([key, value]) => {
        if (!isScoreKey(key)) return [key, value];
        const { task, metric } = parseScoreKey(key);
        const f = factors.get(task);
        return [key, metric === 'mse' && f !== undefined ? value * f : value];
      }),
    );
  return {
    ...run,
    evaluate: async (split, step) => unscale(await run.evaluate(split, step)),
    scoreAll: async () => unscale(await run.scoreAll()),
  };
}
