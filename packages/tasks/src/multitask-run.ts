import { isMtlError, joinUrl as join, MtlError, type RandomStream } from '@mtl/core';
import {
  DictDataLoader,
  type DictDataset,
  disposeBatch,
  type SchedulerName,
  scheduleBatches,
} from '@mtl/data';
import * as tf from '@tensorflow/tfjs';
import { gateLog } from './gate-log.js';
import type { RunModel, WarmStart } from './model-run.js';
import type { MultitaskModel } from './multitask-model.js';
import { withOriginalUnits } from './original-units.js';
import { withModelLosses } from './run-model-loss.js';
import { describeInputs, firstRows, type TaskData } from './task-data.js';

/**
 * The saved model's file in a run's `model/` folder (@mtl/core's saved format, every model kind).
 * Runs of earlier releases have `model.json` (format version 1), which is refused by version.
 * @example
 * joinUrl('memory://run', MODEL_FILE); // 'memory://run/model.mtl'
 */
export const MODEL_FILE = 'model.mtl';

/** How a multitask run batches its data (the `mtl` config's `training` section has these fields). */
export interface MultitaskRunOptions {
  batchSize: number;
  /** How the train loaders' batches are ordered into steps (@mtl/data's `scheduleBatches`). */
  scheduler: SchedulerName;
  /** Reshuffle each train loader's rows every epoch (seeded); evaluation never shuffles. */
  shuffle: boolean;
}

/**
 * The run protocol ({@link RunModel}) of a MultitaskModel. One loader per dataset (tasks reading
 * the same dataset share its batches: a batch feeds every task whose label it carries). `save`,
 * `load` and `warmStart` take a folder path or URL (`runs/a`, `memory://run`, `indexeddb://run`)
 * and read or write {@link MODEL_FILE} in it. Loader and scheduler seeds are children of `rng`.
 * Scores carry `model/all/<split>/loss` (Σ task weight·task loss, as the Trainer logs train loss);
 * a regression task whose {@link TaskData} carries a label scaler predicts in original units (and
 * scores so, by buildMultitaskModel's scorer).
 * @example
 * const { model, modules } = buildMultitaskModel(tasks, taskData, moduleOptions, 3);
 * const run = multitaskRun(model, modules, taskData, { batchSize: 32, scheduler: 'shuffled', shuffle: true }, new RandomStream(3));
 */
export function multitaskRun(
  model: MultitaskModel,
  modules: string[],
  taskData: Readonly<Record<string, TaskData>>,
  options: MultitaskRunOptions,
  rng: RandomStream,
): RunModel {
  const { batchSize, scheduler, shuffle } = options;
  const datasetsOf = (split: string): DictDataset[] => {
    const seen = new Set<DictDataset>();
    for (const data of Object.values(taskData)) {
      const ds = data.splits[split];
      if (ds !== undefined) seen.add(ds);
    }
    return [...seen];
  };
  const splits = [...new Set(Object.values(taskData).flatMap((d) => Object.keys(d.splits)))];
  const loaderOf = (ds: DictDataset, shuffle: boolean) =>
    new DictDataLoader(ds, { batchSize, shuffle, seed: rng.childSeed(`loader/${ds.name}/${ds.split}`) });
  const evalLoaders = (split: string) => datasetsOf(split).map((ds) => loaderOf(ds, false));
  const gates = gateLog(model);
  // A task's slices are scored on its own datasets (TaskData.slices, by split).
  const scoring = {
    slices: (task: string, dataset: string, split: string) => {
      const data = taskData[task];
      return data?.datasetName === dataset ? data.slices?.[split] : undefined;
    },
  };

  const run: RunModel = {
    kind: 'multitask',
    trainable: model,
    taskNames: model.taskNames,
    moduleNames: () => [...modules],
    trainSource: () =>
      scheduleBatches(
        datasetsOf('train').map((ds) => loaderOf(ds, shuffle)),
        scheduler,
        { seed: rng.childSeed('scheduler') },
      ),
    async checkSplit(split) {
      for (const [name, data] of Object.entries(taskData)) {
        const ds = data.splits[split];
        if (ds === undefined || ds.length === 0) continue;
        checkTaskOnBatch(model, name, data, ds, batchSize);
      }
      // The evaluation path (host-side losses and every task's metrics) on the same rows.
      for (const ds of datasetsOf(split)) {
        if (ds.length > 0) await model.score([[firstRows(ds, batchSize)]]);
      }
    },
    async evaluate(split, step) {
      const loaders = evalLoaders(split);
      return loaders.length === 0
        ? {}
        : gates.during(split, step, () => model.evaluate(loaders, split, scoring));
    },
    async scoreAll() {
      return model.score(
        splits.flatMap((s) => evalLoaders(s)),
        scoring,
      );
    },
    save: (dir) => model.save(join(dir, MODEL_FILE)),
    async warmStart(dir): Promise<WarmStart> {
      const r = await model.loadModuleWeights(join(dir, MODEL_FILE), { onMismatch: 'reinit' });
      return { reused: r.reused, new: r.new, dropped: r.dropped, reshaped: r.reshaped };
    },
    async load(dir) {
      const r = await model.loadModuleWeights(join(dir, MODEL_FILE), { onMismatch: 'error' });
      if (r.new.length > 0) {
        throw new MtlError('CHECKPOINT_MISMATCH', `the saved model has no module ${r.new.join(', ')}`, {
          place: join(dir, MODEL_FILE),
        });
      }
    },
    async predict(task, dataset) {
      const out = await model.predict(new DictDataLoader(dataset, { batchSize: 256, shuffle: false }), {
        returnPreds: true,
        tasks: [task],
      });
      const p = out[task]!;
      const order = Array.from(p.indices.keys()).sort((a, b) => p.indices[a]! - p.indices[b]!);
      const probs = order.map((i) => p.probs[i]!);
      const preds = p.preds;
      if (preds === undefined) return { probs };
      return Array.isArray(preds)
        ? { probs, preds: order.map((i) => preds[i]!) }
        : { probs, preds: order.map((i) => (preds as Int32Array | Float32Array)[i]!) };
    },
    mixing: () => null,
    gates: () => gates.history(),
    async recordFinalGates(info) {
      await gates.final(info, (split) => model.evaluate(evalLoaders(split), split));
    },
    dispose: () => model.dispose(),
  };
  const weights = Object.fromEntries(model.taskNames.map((name) => [name, model.getTask(name).weight]));
  return withOriginalUnits(withModelLosses(run, weights), taskData);
}

/**
 * One task's forward pass and loss on the first batch of one split. A module that does not fit
 * its input is SHAPE_MISMATCH naming the operation sequence; the loss sees only this task's label,
 * so a head that does not fit the labels fails with the library's own error, naming the task.
 */
function checkTaskOnBatch(
  model: MultitaskModel,
  name: string,
  data: TaskData,
  ds: DictDataset,
  batchSize: number,
): void {
  const batch = firstRows(ds, batchSize);
  try {
    let units = 0;
    try {
      // Without labels: the head's width against the declared classes first, then (below) every
      // class id of the split against that width, then this batch's loss.
      tf.tidy(() => {
        const out = model.forward({ ...batch, Y: {} }, { tasks: [name] })[name]!;
        units = out.rank === 2 ? out.shape[1]! : 1;
      });
    } catch (e) {
      // The task's own check of its head against its classes, labels or targets says it best.
      if (
        (isMtlError(e, 'DATA_SHAPE_MISMATCH') || isMtlError(e, 'LABEL_OUT_OF_RANGE')) &&
        e.place === `task ${name}`
      ) {
        throw new MtlError(e.code, `task ${name}: ${e.reason}`, {
          place: `tasks.${name}`,
          details: e.details,
          cause: e,
        });
      }
      throw new MtlError(
        'SHAPE_MISMATCH',
        `the operation sequence does not fit the ${ds.split} split of "${data.source}" (input ${describeInputs(ds, data.inputs)}): ${(e as Error).message.split('\n')[0]}`,
        { place: `tasks.${name}.ops`, cause: e },
      );
    }
    checkClassIds(model, name, data, ds, units);
    const own = { ...batch, Y: { [data.label]: batch.Y[data.label]! } };
    try {
      tf.tidy(() => {
        model.loss(own, { step: 0, epoch: 0, seed: 0, training: false });
      });
    } catch (e) {
      if (e instanceof MtlError) throw e;
      throw new MtlError(
        'SHAPE_MISMATCH',
        `the outputs do not fit the labels "${data.label}" of the ${ds.split} split of "${data.source}": ${(e as Error).message.split('\n')[0]}`,
        { place: `tasks.${name}`, cause: e },
      );
    }
  } finally {
    disposeBatch(batch);
  }
}

/**
 * Every class id of a split against the head (the Task checks each batch it sees; this sees them
 * all before a run starts): an id the head cannot output would otherwise stop training midway.
 */
function checkClassIds(
  model: MultitaskModel,
  name: string,
  data: TaskData,
  ds: DictDataset,
  units: number,
): void {
  const split = ds.split;
  const task = model.getTask(name);
  if (task.kind !== 'multiclass' && task.kind !== 'binary') return;
  if (ds.labelInfo(data.label).kind !== 'class') return;
  const classes = task.kind === 'binary' ? 2 : units;
  const values = ds.labelValues(data.label);
  const row = values.findIndex((v) => v !== -1 && (v < 0 || v >= classes));
  if (row < 0) return;
  throw new MtlError(
    'LABEL_OUT_OF_RANGE',
    `task ${name}: label "${data.label}" is ${values[row]} at row ${row} of split ${split}, outside the task's ${classes} classes (ids 0..${classes - 1}, -1 = abstain; module "${task.outputModule}" outputs ${units} unit${units === 1 ? '' : 's'})`,
    { place: `tasks.${name}`, details: { task: name, label: data.label, split, row, value: values[row] } },
  );
}
