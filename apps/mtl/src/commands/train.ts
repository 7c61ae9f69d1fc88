import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isMtlError, listNames, MtlError } from '@mtl/core';
import { formatScoreTable } from '@mtl/scoring';
import { CHECKPOINT_FILES, JsonlMetricsLogger, Trainer, type TrainerCallbacks } from '@mtl/training';
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
  /** The config file (not with `resume`). */
  config?: string | undefined;
  /** Continue this run directory from its last checkpoint, with its own config. */
  resume?: string | undefined;
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
  const {
    batchSize: _b,
    scheduler: _s,
    shuffle: _sh,
    validSplit: _v,
    seed,
    ...trainer
  } = prepared.loaded.config.training;
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
  if (args.resume !== undefined) return resumeRun(args, write);
  const loaded = loadConfig(args.config!, args.set ?? []);
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
    await checkWatchedMetrics(prepared, () => evaluateValid(prepared));
    const runDirPath = args.out ?? defaultRunDir(loaded.name);
    trainerOptions(prepared, runDirPath);
    const runDir = createRunDir(runDirPath);
    await writeResolvedConfig(runDir, loaded);
    await writeJson(join(runDir, RUN_FILES.run), { from: fromDir ?? null, warm } satisfies RunRecord);
    if (!args.quiet) {
      write(`run: ${runDir} (backend ${prepared.backend})`);
      if (fromDir !== undefined) {
        write(
          `from ${fromDir}: reused ${list(warm.reused)}; new ${list(warm.new)}; dropped ${list(warm.dropped)}; reshaped ${list(warm.reshaped)}`,
        );
      }
    }
    return await execute(prepared, runDir, warm, undefined, args, write);
  } finally {
    run.dispose();
  }
}

/** What a run records at its start so that `--resume` can redo it: the warm start, if any. */
interface RunRecord {
  from: string | null;
  warm: WarmStart;
}

/**
 * A model whose weights blew up gives non-finite outputs before its next loss does: the scorer's
 * "preds/probs are NaN" would read as bad data (exit 2). It is divergence, reported like a
 * non-finite loss; the trainer then keeps the last good checkpoint.
 */
async function guardDivergence(
  scores: Promise<Record<string, number>>,
  step: number,
  lr: number,
): Promise<Record<string, number>> {
  try {
    const out = await scores;
    const bad = Object.entries(out).find(([k, v]) => k.endsWith('/loss') && !Number.isFinite(v));
    if (bad)
      throw divergence(bad[0].split('/').slice(0, 2).join('/'), `its ${bad[0]} is ${bad[1]}`, step, lr);
    return out;
  } catch (e) {
    if (isMtlError(e, 'DATA_NON_FINITE') && /preds|probs/.test(e.message)) {
      throw divergence(e.place ?? 'evaluation', 'its outputs are not finite', step, lr);
    }
    throw e;
  }
}

function divergence(place: string, what: string, step: number, lr: number): MtlError {
  return new MtlError(
    'NON_FINITE_LOSS',
    `training diverged: after step ${step} (learning rate ${lr}) ${what}; the last good checkpoint is kept (lower the learning rate or clip gradients)`,
    { place },
  );
}

function evaluateValid(prepared: Prepared): Promise<Record<string, number>> {
  const validSplit = prepared.loaded.config.training.validSplit;
  const hasValid = Object.values(prepared.taskData).some((d) => d.splits[validSplit] !== undefined);
  return hasValid ? prepared.run.evaluate(validSplit) : Promise.resolve({});
}

/**
 * `mtl train --resume RUN_DIR`: continues a run from its last checkpoint with the run's own resolved
 * config; a run killed before its first checkpoint starts again (redoing its warm start). Ends
 * with the same numbers as an uninterrupted run.
 */
async function resumeRun(args: TrainArgs, write: (line: string) => void): Promise<TrainResult> {
  for (const [flag, value] of [
    ['a config', args.config],
    ['--out', args.out],
    ['--from', args.from],
    ['--set', args.set?.length ? args.set : undefined],
  ] as const) {
    if (value !== undefined) {
      throw new MtlError('INVALID_ARGUMENT', `--resume uses the run's own config and folder; drop ${flag}`, {
        place: 'mtl train --resume',
      });
    }
  }
  const runDir = resolve(args.resume!);
  const configFile = join(runDir, RUN_FILES.config);
  if (!existsSync(configFile)) {
    throw new MtlError('FILE_NOT_FOUND', `${runDir} is not a run directory: ${RUN_FILES.config} is missing`, {
      place: '--resume',
    });
  }
  removeStaleTemporaries(runDir);
  const record = readRunRecord(join(runDir, RUN_FILES.run));
  const loaded = loadConfig(configFile);
  const prepared = await prepare(loaded, { backend: args.backend });
  const { run } = prepared;
  try {
    const last = join(runDir, RUN_FILES.checkpoints, CHECKPOINT_FILES.last);
    const warm: WarmStart = record?.warm ?? { reused: [], new: run.moduleNames(), dropped: [], reshaped: [] };
    const resumeFrom = existsSync(last) ? last : undefined;
    if (resumeFrom === undefined && record?.from) await run.warmStart(join(record.from, RUN_FILES.model));
    if (!args.quiet)
      write(
        `resuming ${runDir} ${resumeFrom ? 'from its last checkpoint' : 'from the start (no checkpoint yet)'}`,
      );
    return await execute(prepared, runDir, warm, resumeFrom, args, write);
  } finally {
    run.dispose();
  }
}

/** Temporary files a killed process left half-written (writeFileAtomic's `.NAME.PID.HEX.tmp`). */
function removeStaleTemporaries(runDir: string): void {
  for (const dir of [runDir, join(runDir, RUN_FILES.checkpoints), join(runDir, RUN_FILES.model)]) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir))
      if (/^\..+\.\d+\.[0-9a-f]+\.tmp$/.test(f)) rmSync(join(dir, f), { force: true });
  }
}

function readRunRecord(file: string): RunRecord | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
  } catch {
    throw new MtlError('CHECKPOINT_CORRUPT', 'not valid JSON', { place: file });
  }
}

/** Trains (or resumes), then saves the model and writes scores, mixing and summary, each atomically. */
async function execute(
  prepared: Prepared,
  runDir: string,
  warm: WarmStart,
  resumeFrom: string | undefined,
  args: TrainArgs,
  write: (line: string) => void,
): Promise<TrainResult> {
  const { run } = prepared;
  const options = trainerOptions(prepared, runDir);
  const trainer = new Trainer(options);
  const validSplit = prepared.loaded.config.training.validSplit;
  const hasValid = Object.values(prepared.taskData).some((d) => d.splits[validSplit] !== undefined);
  const result = await trainer.fit(run.trainable, {
    train: run.trainSource(),
    ...(hasValid
      ? {
          evaluate: (info: { step: number }) =>
            guardDivergence(run.evaluate(validSplit), info.step, options.lr),
        }
      : {}),
    ...(resumeFrom === undefined ? {} : { resumeFrom }),
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
