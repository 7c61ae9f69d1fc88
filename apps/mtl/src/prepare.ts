import { type BackendName, listNames, MtlError, RandomStream, selectBackend } from '@mtl/core';
import type { MultitaskModel } from '@mtl/tasks';
import * as tf from '@tensorflow/tfjs';
import { type LoadedSource, loadSource, resolveTaskData, type TaskData } from './build/data.js';
import { buildMultitaskModel } from './build/multitask.js';
import { multitaskRun } from './build/multitask-run.js';
import {
  checkEmbeddingVocabularies,
  labelScaler,
  OriginalUnitsScorer,
  preprocessSource,
  type RunPreprocessing,
  savePreprocessing,
  unscalePredictions,
} from './build/preprocess.js';
import { buildVaeRun, loadVaeDomains } from './build/vae-run.js';
import { buildVmtlRun } from './build/vmtl-run.js';
import type { LoadedConfig } from './config/index.js';
import type { RunModel } from './run-model.js';

/** Everything a command needs once the config is valid: data loaded, model built and checked. */
export interface Prepared {
  loaded: LoadedConfig;
  backend: BackendName;
  rng: RandomStream;
  sources: Record<string, LoadedSource>;
  taskData: Record<string, TaskData>;
  run: RunModel;
  /** Scalers and vocabularies fitted on the train splits (saved with the model as preprocessing.json). */
  preprocessing: RunPreprocessing;
}

export interface PrepareOptions {
  /** `--backend`; wins over the config's `backend`. */
  backend?: string | undefined;
  /** Build only these tasks (solo baselines of `mtl compare`). */
  onlyTasks?: readonly string[];
  /** A saved run's fitted preprocessing, used instead of fitting on the train splits again. */
  preprocessing?: RunPreprocessing | undefined;
}

/**
 * Loads the data and builds the model a config describes, and checks that each task's operation
 * sequence fits its data with a forward pass on two rows. Nothing is written anywhere.
 */
export async function prepare(loaded: LoadedConfig, options: PrepareOptions = {}): Promise<Prepared> {
  const { config } = loaded;
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
  const preprocessing: RunPreprocessing = {};
  for (const [name, source] of Object.entries(config.data)) {
    if (source.kind === 'vae_domains' || sources[name] === undefined) continue;
    const fitted = preprocessSource(name, source, sources[name], options.preprocessing?.[name]);
    if (fitted === undefined) continue;
    if (config.model.kind === 'vae' && used.has(name)) {
      throw new MtlError(
        'CONFIG_INVALID',
        'a vae model reads raw numeric fields: scaling and categorical / text fields are not supported for it',
        { place: `data.${name}` },
      );
    }
    preprocessing[name] = fitted;
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
  const tasks = Object.fromEntries(taskEntries);
  let run: RunModel;
  if (config.model.kind === 'multitask') {
    const scorers: Record<string, OriginalUnitsScorer> = {};
    for (const [name, task] of taskEntries) {
      const scaler = labelScaler(preprocessing, taskData[name]!);
      if (scaler !== undefined && task.kind === 'regression') {
        scorers[name] = new OriginalUnitsScorer(
          { metrics: task.metrics ?? ['mse'], abstainLabel: null },
          scaler,
        );
      }
    }
    checkEmbeddingVocabularies(tasks, taskData, config.modules, preprocessing);
    const built = buildMultitaskModel(tasks, taskData, config.modules, rng.childSeed('init'), scorers);
    run = multitaskRun(built.model, built.modules, taskData, config, rng);
    checkForward(built.model, taskData);
  } else if (config.model.kind === 'vae') {
    run = buildVaeRun(config, config.model, tasks, taskData, rng);
  } else {
    run = buildVmtlRun(config, config.model, tasks, taskData, rng);
  }
  return {
    loaded,
    backend,
    rng,
    sources,
    taskData,
    run: withPreprocessing(run, preprocessing, taskData),
    preprocessing,
  };
}

/**
 * The run, saving its fitted preprocessing with the model and giving regression predictions in
 * the label's original units.
 */
function withPreprocessing(
  run: RunModel,
  preprocessing: RunPreprocessing,
  taskData: Record<string, TaskData>,
): RunModel {
  if (Object.keys(preprocessing).length === 0) return run;
  return {
    ...run,
    async save(dir) {
      await run.save(dir);
      await savePreprocessing(dir, preprocessing);
    },
    async predict(task, dataset) {
      const p = await run.predict(task, dataset);
      const data = taskData[task];
      const scaler = data === undefined ? undefined : labelScaler(preprocessing, data);
      return scaler === undefined ? p : unscalePredictions(p, scaler);
    },
  };
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
    try {
      tf.tidy(() => {
        model.forward(batch, { tasks: [name] });
      });
    } catch (e) {
      model.dispose();
      const shapes = data.inputs.map((f) => `${f} ${JSON.stringify(ds.fieldInfo(f).rowShape)}`).join(', ');
      throw new MtlError(
        'SHAPE_MISMATCH',
        `the operation sequence does not fit the data (input ${shapes}): ${(e as Error).message.split('\n')[0]}`,
        { place: `tasks.${name}.ops`, cause: e },
      );
    } finally {
      for (const t of [...Object.values(batch.X), ...Object.values(batch.Y)]) t.dispose();
    }
  }
}
