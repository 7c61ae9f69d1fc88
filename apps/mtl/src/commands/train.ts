import { join } from 'node:path';
import { listNames, MtlError } from '@mtl/core';
import { formatScoreTable } from '@mtl/scoring';
import { JsonlMetricsLogger, Trainer, type TrainerCallbacks } from '@mtl/training';
import { loadConfig } from '../config/index.js';
import { type Prepared, prepare } from '../prepare.js';
import { progressReporter } from '../progress.js';
import {
  checkRunDir,
  createRunDir,
  defaultRunDir,
  RUN_FILES,
  sortedScores,
  writeJson,
  writeResolvedConfig,
} from '../run-dir.js';
import type { WarmStart } from '../run-model.js';

export interface TrainArgs {
  config: string;
  out?: string | undefined;
  from?: string | undefined;
  set?: readonly string[];
  backend?: string | undefined;
  quiet?: boolean;
  /** Where messages go (default stdout). */
  write?: (line: string) => void;
  /** Progress bar (default: on a TTY without CI). */
  bar?: boolean;
  /** Skip writing into the run directory what only `train` writes (used by `compare` for its inner runs). */
  extraCallbacks?: TrainerCallbacks[];
  /** Train only these tasks (compare's solo runs). */
  onlyTasks?: readonly string[];
}

export interface TrainResult {
  runDir: string;
  scores: Record<string, number>;
  summary: Summary;
}

export interface Summary {
  tasks: string[];
  modules: string[];
  reused: string[];
  new: string[];
  dropped: string[];
  reshaped: string[];
  backend: string;
  steps: number;
  epochs: number;
  stopReason: string;
}

/** Trainer options from the config's `training` section (the loop options are the app's). */
export function trainerOptions(prepared: Prepared, runDir: string) {
  const { batchSize: _b, scheduler: _s, validSplit: _v, seed, ...trainer } = prepared.loaded.config.training;
  const taskWeights = {
    ...Object.fromEntries(Object.entries(prepared.loaded.config.tasks).map(([n, t]) => [n, t.weight])),
    ...trainer.taskWeights,
  };
  const configTasks = Object.keys(prepared.loaded.config.tasks);
  for (const name of Object.keys(taskWeights)) {
    if (!configTasks.includes(name)) {
      throw new MtlError('UNKNOWN_TASK', `unknown task "${name}" (known: ${listNames(configTasks)})`, {
        place: `training.taskWeights.${name}`,
      });
    }
    // A solo run of `mtl compare` trains a subset of the tasks.
    if (!prepared.run.taskNames.includes(name)) delete taskWeights[name];
  }
  return {
    ...trainer,
    taskWeights,
    seed: prepared.rng.childSeed(`training/${seed}`),
    checkpointDir: join(runDir, RUN_FILES.checkpoints),
  };
}

/**
 * `mtl train`: validates everything before writing anything, then trains into a fresh run
 * directory, saves the model, scores every task on every split and writes the summary.
 */
export async function train(args: TrainArgs): Promise<TrainResult> {
  const write = args.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const loaded = loadConfig(args.config, args.set ?? []);
  const fromDir = args.from === undefined ? undefined : checkRunDir(args.from, '--from');
  const prepared = await prepare(loaded, {
    backend: args.backend,
    ...(args.onlyTasks === undefined ? {} : { onlyTasks: args.onlyTasks }),
  });
  const { run } = prepared;
  try {
    const warm: WarmStart =
      fromDir === undefined
        ? { reused: [], new: run.moduleNames(), dropped: [], reshaped: [] }
        : await run.warmStart(join(fromDir, RUN_FILES.model));
    const validSplit = loaded.config.training.validSplit;
    const hasValid = Object.values(prepared.taskData).some((d) => d.splits[validSplit] !== undefined);
    await checkWatchedMetrics(prepared, () => (hasValid ? run.evaluate(validSplit) : Promise.resolve({})));
    const runDirPath = args.out ?? defaultRunDir(loaded.name);
    const options = trainerOptions(prepared, runDirPath);
    const runDir = createRunDir(runDirPath);
    await writeResolvedConfig(runDir, loaded);
    if (!args.quiet) {
      write(`run: ${runDir} (backend ${prepared.backend})`);
      if (fromDir !== undefined) {
        write(
          `from ${fromDir}: reused ${list(warm.reused)}; new ${list(warm.new)}; dropped ${list(warm.dropped)}; reshaped ${list(warm.reshaped)}`,
        );
      }
    }
    const trainer = new Trainer({ ...options, checkpointDir: join(runDir, RUN_FILES.checkpoints) });
    const result = await trainer.fit(run.trainable, {
      train: run.trainSource(),
      ...(hasValid ? { evaluate: () => run.evaluate(validSplit) } : {}),
      callbacks: [
        new JsonlMetricsLogger(join(runDir, RUN_FILES.metrics)),
        progressReporter({
          write,
          quiet: args.quiet ?? false,
          ...(args.bar === undefined ? {} : { bar: args.bar }),
        }),
        ...(args.extraCallbacks ?? []),
      ],
    });
    await run.save(join(runDir, RUN_FILES.model));
    const scores = sortedScores(await run.scoreAll());
    await writeJson(join(runDir, RUN_FILES.scores), scores);
    const mixing = run.mixing();
    if (mixing !== null) await writeJson(join(runDir, RUN_FILES.mixing), mixing);
    const summary: Summary = {
      tasks: run.taskNames,
      modules: run.moduleNames(),
      ...warm,
      backend: prepared.backend,
      steps: result.step,
      epochs: result.epoch,
      stopReason: result.stopReason,
    };
    await writeJson(join(runDir, RUN_FILES.summary), summary);
    if (!args.quiet) {
      write('');
      write(formatScoreTable(scores));
    }
    return { runDir, scores, summary };
  } finally {
    run.dispose();
  }
}

/**
 * A checkpoint, early-stopping or plateau metric that would never be produced fails here, before
 * any file is written (Emmental's default names a key that never exists and silently never saves).
 */
async function checkWatchedMetrics(
  prepared: Prepared,
  evaluate: () => Promise<Record<string, number>>,
): Promise<void> {
  const training = prepared.loaded.config.training;
  const watched: Array<[string, string | undefined]> = [
    ['training.checkpointMetric', training.checkpointMetric],
    ['training.earlyStopping.metric', training.earlyStopping?.metric],
    [
      'training.lrSchedule.metric',
      training.lrSchedule.type === 'plateau' ? training.lrSchedule.metric : undefined,
    ],
  ];
  if (watched.every(([, metric]) => metric === undefined)) return;
  const available = new Set(Object.keys(await evaluate()));
  available.add('model/all/train/loss');
  available.add('model/all/train/lr');
  for (const task of prepared.run.taskNames) {
    const data = prepared.taskData[task]!;
    available.add(`${task}/${data.datasetName}/train/loss`);
  }
  for (const [place, metric] of watched) {
    if (metric !== undefined && !available.has(metric)) {
      throw new MtlError(
        'CHECKPOINT_METRIC_UNKNOWN',
        `"${metric}" is never produced (available: ${listNames(available)})`,
        {
          place,
        },
      );
    }
  }
}

function list(names: readonly string[]): string {
  return names.length === 0 ? '(none)' : names.join(', ');
}
