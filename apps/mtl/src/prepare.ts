import { type BackendName, isMtlError, listNames, MtlError, RandomStream, selectBackend } from '@mtl/core';
import type { MultitaskModel } from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { type LoadedSource, loadSource, resolveTaskData, type TaskData } from './build/data.js';
import { buildMultitaskModel } from './build/multitask.js';
import { multitaskRun } from './build/multitask-run.js';
import { buildVaeRun, loadVaeDomains } from './build/vae-run.js';
import { buildVmtlRun } from './build/vmtl-run.js';
import type { LoadedConfig } from './config/index.js';
import { taskWeightsOf, withModelLosses } from './model-loss.js';
import type { RunModel } from './run-model.js';
import { type PhaseClock, since, timeMark } from './timing.js';

/** Everything a command needs once the config is valid: data loaded, model built and checked. */
export interface Prepared {
  loaded: LoadedConfig;
  backend: BackendName;
  rng: RandomStream;
  sources: Record<string, LoadedSource>;
  taskData: Record<string, TaskData>;
  run: RunModel;
}

export interface PrepareOptions {
  /** `--backend`; wins over the config's `backend`. */
  backend?: string | undefined;
  /** Build only these tasks (solo baselines of `mtl compare`). */
  onlyTasks?: readonly string[];
  /** Adds the time of loading the data (`load`) and of building the model (`build`). */
  clock?: PhaseClock;
}

/**
 * Loads the data and builds the model a config describes, and checks that each task's operation
 * sequence fits its data with a forward pass on two rows. Nothing is written anywhere.
 */
export async function prepare(loaded: LoadedConfig, options: PrepareOptions = {}): Promise<Prepared> {
  const { config } = loaded;
  const loadStart = timeMark();
  const requested = options.backend ?? (config.backend === 'auto' ? undefined : config.backend);
  const backend = await selectBackend(requested === undefined ? {} : { backend: requested as BackendName });
  const rng = new RandomStream(config.seed);

  const taskEntries = Object.entries(config.tasks).filter(
    ([name]) => options.onlyTasks === undefined || options.onlyTasks.includes(name),
  );
  const used = new Set(taskEntries.map(([, t]) => t.data));
  const sources: Record<string, LoadedSource> = {};
  for (const [name, source] of Object.entries(config.data)) {
    if (!used.has(name) && options.onlyTasks !== undefined) continue;
    sources[name] =
      source.kind === 'vae_domains'
        ? loadVaeDomains(name, source, rng)
        : await loadSource(name, source, loaded.file, rng);
  }
  const taskData: Record<string, TaskData> = {};
  for (const [name, task] of taskEntries) {
    const data = resolveTaskData(name, task, sources);
    if (data.splits.train === undefined) {
      throw new MtlError(
        'UNKNOWN_DATASET',
        `source "${task.data}" has no "train" split (splits: ${listNames(Object.keys(data.splits))})`,
        { place: `tasks.${name}.data` },
      );
    }
    taskData[name] = data;
  }
  options.clock?.add('load', since(loadStart));
  const buildStart = timeMark();
  const tasks = Object.fromEntries(taskEntries);
  let run: RunModel;
  if (config.model.kind === 'multitask') {
    const built = buildMultitaskModel(tasks, taskData, config.modules, rng.childSeed('init'));
    run = multitaskRun(built.model, built.modules, taskData, config, rng);
    checkForward(built.model, taskData);
  } else if (config.model.kind === 'vae') {
    run = buildVaeRun(config, config.model, tasks, taskData, rng);
  } else {
    run = buildVmtlRun(config, config.model, tasks, taskData, rng);
  }
  run = withModelLosses(run, taskWeightsOf(config, run.taskNames));
  options.clock?.add('build', since(buildStart));
  return { loaded, backend, rng, sources, taskData, run };
}

/** Runs each task on two training rows so a module that does not fit its input fails here, naming the task. */
function checkForward(model: MultitaskModel, taskData: Record<string, TaskData>): void {
  for (const [name, data] of Object.entries(taskData)) {
    const ds = data.splits.train!;
    const n = Math.min(2, ds.length);
    if (n === 0)
      throw new MtlError('DATA_EMPTY', `the train split of "${data.source}" has no rows`, {
        place: `tasks.${name}`,
      });
    const batch = ds.collate(Int32Array.from({ length: n }, (_, i) => i));
    let units = 0;
    try {
      tf.tidy(() => {
        const out = model.forward(batch, { tasks: [name] })[name]!;
        units = out.rank === 2 ? out.shape[1]! : 1;
      });
    } catch (e) {
      model.dispose();
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
      const shapes = data.inputs.map((f) => `${f} ${JSON.stringify(ds.fieldInfo(f).rowShape)}`).join(', ');
      throw new MtlError(
        'SHAPE_MISMATCH',
        `the operation sequence does not fit the data (input ${shapes}): ${(e as Error).message.split('\n')[0]}`,
        { place: `tasks.${name}.ops`, cause: e },
      );
    } finally {
      for (const t of [...Object.values(batch.X), ...Object.values(batch.Y)]) t.dispose();
    }
    checkClassIds(model, name, data, units);
  }
}

/**
 * Every class id of every split against the head (the Task checks each batch it sees; this sees
 * them all before a run starts): an id the head cannot output would otherwise stop training midway.
 */
function checkClassIds(model: MultitaskModel, name: string, data: TaskData, units: number): void {
  const task = model.getTask(name);
  if (task.kind !== 'multiclass' && task.kind !== 'binary') return;
  const classes = task.kind === 'binary' ? 2 : units;
  for (const [split, ds] of Object.entries(data.splits)) {
    if (ds.labelInfo(data.label).kind !== 'class') continue;
    const values = ds.labelValues(data.label);
    const row = values.findIndex((v) => v !== -1 && (v < 0 || v >= classes));
    if (row < 0) continue;
    model.dispose();
    throw new MtlError(
      'LABEL_OUT_OF_RANGE',
      `task ${name}: label "${data.label}" is ${values[row]} at row ${row} of split ${split}, outside the task's ${classes} classes (ids 0..${classes - 1}, -1 = abstain; module "${task.outputModule}" outputs ${units} unit${units === 1 ? '' : 's'})`,
      { place: `tasks.${name}`, details: { task: name, label: data.label, split, row, value: values[row] } },
    );
  }
}
