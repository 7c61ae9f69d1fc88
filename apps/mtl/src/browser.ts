import type { StepBatches, Trainable } from '@mtl/core';
import { Trainer, type TrainerCallbacks } from '@mtl/training';
import { preprocessingFileText } from './build/preprocess.js';
import { predict } from './commands/predict.js';
import { configSchema, type LoadedConfig, parseConfigText, validateWithSchema } from './config/index.js';
import { conflictMonitor } from './conflict-monitor.js';
import { type Prepared, prepare } from './prepare.js';
import { buildReportPage } from './report/page.js';
import { type RunFiles, readBestCheckpoint, watchedMetrics } from './report/run-files.js';
import { resolvedConfigText } from './run-dir.js';
import { moduleLr, trainerConfig } from './trainer-options.js';
import { weightingFor } from './weighting.js';

export type { LoadedConfig, Prepared };
/**
 * What a browser page needs of the app, without the commands: the config schema and its checks
 * (the same zod code as `mtl validate`), and `prepare` + the training loop of `mtl train` with the
 * same seeds, so a page's run gives a Node run's numbers. The Node built-ins the app's modules
 * import are only called for files (CSV sources, run directories), which a page replaces by
 * aliasing them (apps/web/vite.config.ts). Also `mtl predict`'s own code (`predict`, for a page
 * that serves the run's files to it; `activeBackend` is the backend the page made active), and
 * `mtl report`'s page (`buildReportPage`) from a run's files as a page holds them, and the text of
 * the preprocessing.json a model download needs beside model.mtl (`preprocessingFileText`).
 */
export {
  buildReportPage,
  configSchema,
  parseConfigText,
  predict,
  preprocessingFileText,
  type RunFiles,
  readBestCheckpoint,
  resolvedConfigText,
  validateWithSchema,
  watchedMetrics,
};

/**
 * A config text (YAML or JSON) checked as `mtl validate` checks it; errors name the line
 * (CONFIG_PARSE) or the config path (CONFIG_INVALID).
 * @example
 * const loaded = configFromText(yamlText, 'example.yaml');
 */
export function configFromText(text: string, file: string): LoadedConfig {
  const data = parseConfigText(text, file);
  const config = validateWithSchema(configSchema, data, file);
  return { file, name: file.replace(/\.[^.]*$/, ''), config };
}

/**
 * Loads the data and builds the model of a config as `mtl train` does, on the backend the page
 * made active (webgl, wasm or cpu: a page picks its own).
 * @example
 * const prepared = await prepareConfig(configFromText(text, 'x.yaml'), 'wasm');
 */
export function prepareConfig(loaded: LoadedConfig, activeBackend: string): Promise<Prepared> {
  return prepare(loaded, { activeBackend });
}

/** Options of {@link trainPrepared}. */
export interface PageTrainOptions {
  signal?: AbortSignal;
  callbacks?: TrainerCallbacks[];
  /** Where checkpoints go (`memory://…`, `indexeddb://…`); default none. */
  checkpointDir?: string;
  /** Continue from this checkpoint (a run stopped with `signal`). */
  resumeFrom?: string;
}

/**
 * Trains a prepared config as `mtl train` does (same trainer options, seeds and weighting), then
 * scores every task on every split. Stopped by `signal`: `{stopped: true}` and no scores.
 * @example
 * const { scores } = await trainPrepared(prepared);
 */
export async function trainPrepared(
  prepared: Prepared,
  options: PageTrainOptions = {},
): Promise<{
  scores: Record<string, number>;
  stopped: boolean;
  steps: number;
  epochs: number;
  stopReason: string;
}> {
  const { run } = prepared;
  const config = prepared.loaded.config;
  const validSplit = config.training.validSplit;
  const trainerOptions = {
    ...trainerConfig(prepared),
    ...(options.checkpointDir === undefined ? {} : { checkpointDir: options.checkpointDir }),
  };
  const aggregator = weightingFor(config, run.taskNames);
  const fitter = new Trainer(trainerOptions, { aggregator, groupLr: moduleLr(prepared) });
  // The gradient conflicts mtl train logs at each evaluation (training.monitor.conflicts), so the
  // page's history and report hold the same keys.
  const monitor = conflictMonitor(run, prepared.rng, config.training.monitor.conflicts);
  const hasValid = Object.values(prepared.taskData).some((d) => d.splits[validSplit] !== undefined);
  const trainable: Trainable<StepBatches> = {
    trainableVariables: () => run.trainable.trainableVariables(),
    ...(run.trainable.parameterGroups ? { parameterGroups: () => run.trainable.parameterGroups!() } : {}),
    loss: (batches, ctx) => run.trainable.loss(batches, ctx),
    // Gradients of the shared representation (gradientOf: representation), when the model has one.
    ...(run.trainable.representation
      ? { representation: (batches, ctx) => run.trainable.representation!(batches, ctx) }
      : {}),
  };
  const evaluate = async (info: { step: number; epoch: number }) => {
    const scores = await run.evaluate(validSplit, info.step);
    return monitor === undefined ? scores : { ...scores, ...monitor.measure(info) };
  };
  let result: Awaited<ReturnType<typeof fitter.fit>>;
  try {
    result = await fitter.fit(trainable, {
      train: run.trainSource(),
      ...(hasValid ? { evaluate } : {}),
      ...(options.resumeFrom === undefined ? {} : { resumeFrom: options.resumeFrom }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      callbacks: options.callbacks ?? [],
    });
  } finally {
    aggregator.dispose?.();
    monitor?.dispose();
  }
  const end = { steps: result.step, epochs: result.epoch, stopReason: result.stopReason };
  if (result.stopReason === 'interrupted') return { scores: {}, stopped: true, ...end };
  const scores = await run.scoreAll();
  const sorted = Object.fromEntries(
    Object.keys(scores)
      .sort()
      .map((k) => [k, scores[k]!]),
  );
  return { scores: sorted, stopped: false, ...end };
}
