import { type BackendName, listNames, MtlError, RandomStream, selectBackend } from '@mtl/core';
import { buildMultitaskModel, multitaskRun, type RunModel } from '@mtl/tasks';
import { buildVaeRun } from '@mtl/vae';
import { buildVmtlRun } from '@mtl/variational';
import { type LoadedSource, loadSource, resolveTaskData, type TaskData } from './build/data.js';
import { loadLayersModules } from './build/layers-files.js';
import { preprocessSource, type RunPreprocessing, savePreprocessing } from './build/preprocess.js';
import { multitaskEntries, sliceMasksAsRead, withSlices } from './build/slices.js';
import { loadVaeDomains } from './build/vae.js';
import { isModelKind, type LoadedConfig } from './config/index.js';
import { type PhaseClock, since, startupMark, timeMark } from './timing.js';

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
  /** Adds the time of loading the data (`load`) and of building the model (`build`). */
  clock?: PhaseClock;
  /**
   * A backend a browser page made active itself (webgl, wasm, cpu): used as it is, where
   * `backend` would be selected among the Node ones.
   */
  activeBackend?: string | undefined;
  /** A saved run's fitted preprocessing, used instead of fitting on the train splits again. */
  preprocessing?: RunPreprocessing | undefined;
}

/**
 * Loads the data and builds the model a config describes. Nothing is written anywhere; whether
 * the model fits its data on every split is checked by {@link preflight} (train and validate).
 */
export async function prepare(loaded: LoadedConfig, options: PrepareOptions = {}): Promise<Prepared> {
  const { config } = loaded;
  const loadStart = timeMark();
  const requested = options.backend ?? (config.backend === 'auto' ? undefined : config.backend);
  const backend =
    options.activeBackend !== undefined
      ? (options.activeBackend as BackendName)
      : await selectBackend(requested === undefined ? {} : { backend: requested as BackendName });
  startupMark('backend');
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
  // Slicing functions read the data as the files give it, before any scaling.
  const masks = isModelKind(config, 'multitask')
    ? sliceMasksAsRead(Object.fromEntries(taskEntries) as typeof config.tasks, sources)
    : {};
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
  let taskData: Record<string, TaskData> = {};
  for (const [name, task] of taskEntries) {
    const data = resolveTaskData(name, task, sources);
    if (data.splits.train === undefined) {
      throw new MtlError(
        'UNKNOWN_DATASET',
        `source "${task.data}" has no "train" split (splits: ${listNames(Object.keys(data.splits))})`,
        { place: `tasks.${name}.data` },
      );
    }
    if (data.splits.train.length === 0) {
      throw new MtlError('DATA_EMPTY', `the train split of "${data.source}" has no rows`, {
        place: `tasks.${name}`,
      });
    }
    // The run builders score and predict a scaled label in its original units from this.
    const fitted = preprocessing[data.source]?.[data.datasetName];
    taskData[name] = fitted === undefined ? data : { ...data, preprocessing: fitted };
  }
  if (isModelKind(config, 'multitask')) taskData = withSlices(taskData, config.tasks, masks);
  options.clock?.add('load', since(loadStart));
  startupMark('data');
  const buildStart = timeMark();
  // The tasks this run builds, typed by the model kind.
  const built = <T>(all: Record<string, T>): Record<string, T> =>
    Object.fromEntries(taskEntries.map(([name]) => [name, all[name]!]));
  let run: RunModel;
  if (isModelKind(config, 'multitask')) {
    const tasks = built(config.tasks);
    const prebuilt = await loadLayersModules(config.modules, tasks, loaded.file);
    const model = buildMultitaskModel(
      multitaskEntries(tasks),
      taskData,
      config.modules,
      rng.childSeed('init'),
      {},
      prebuilt,
    );
    run = multitaskRun(model.model, model.modules, taskData, config.training, rng);
  } else if (isModelKind(config, 'vae')) {
    run = buildVaeRun(config, config.model, built(config.tasks), taskData, rng);
  } else {
    const tasks = built(config.tasks);
    const prebuilt = await loadLayersModules(config.modules, tasks, loaded.file);
    run = buildVmtlRun(config, config.model, tasks, taskData, rng, prebuilt);
  }
  options.clock?.add('build', since(buildStart));
  startupMark('model');
  return {
    loaded,
    backend,
    rng,
    sources,
    taskData,
    run: withSavedPreprocessing(run, preprocessing),
    preprocessing,
  };
}

/**
 * The run, saving its fitted preprocessing with the model (the run directory's
 * preprocessing.json, which `score` and `predict` read back to encode new rows).
 */
function withSavedPreprocessing(run: RunModel, preprocessing: RunPreprocessing): RunModel {
  if (Object.keys(preprocessing).length === 0) return run;
  return {
    ...run,
    async save(dir) {
      await run.save(dir);
      await savePreprocessing(dir, preprocessing);
    },
  };
}
