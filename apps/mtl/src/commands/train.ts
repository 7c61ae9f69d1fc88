import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isMtlError, MtlError, type StepBatches, type StepContext, type Trainable } from '@mtl/core';
import { formatScoreTable, isScoreKey, parseScoreKey } from '@mtl/scoring';
import type { WarmStart } from '@mtl/tasks';
import { CHECKPOINT_FILES, Trainer, type TrainerCallbacks } from '@mtl/training';
import { JsonlMetricsLogger } from '@mtl/training/node';
import { parse as parseYaml } from 'yaml';
import { dataCeilings } from '../build/data.js';
import { loadConfig } from '../config/index.js';
import { CONFLICT_FILE, conflictFileOf, conflictMonitor } from '../conflict-monitor.js';
import { nativeLine } from '../native-line.js';
import { preflight } from '../preflight.js';
import { type Prepared, prepare } from '../prepare.js';
import { progressReporter } from '../progress.js';
import {
  checkRunDir,
  defaultRunDir,
  type MadeRunDir,
  makeRunDir,
  RUN_FILES,
  removeUnstartedRun,
  sortedScores,
  writeJson,
  writeResolvedConfig,
} from '../run-dir.js';
import { type Phase, PhaseClock, type PhaseTime, since, startupMark, timeMark } from '../timing.js';
import { moduleLr, trainerConfig } from '../trainer-options.js';
import { weightingFor } from '../weighting.js';

export { moduleLr };

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
  /** `--verbose`: also say whether @mtl/native's kernels are in use (even with `quiet`). */
  verbose?: boolean;
  /** Where messages go (default stdout). */
  write?: (line: string) => void;
  /** Where the interruption notice goes, even with `quiet` (default stderr). */
  warn?: (line: string) => void;
  /** Progress bar (default: on a TTY without CI). */
  bar?: boolean;
  /** Skip writing into the run directory what only `train` writes (used by `compare` for its inner runs). */
  extraCallbacks?: TrainerCallbacks[];
  /** Train only these tasks (compare's solo runs). */
  onlyTasks?: readonly string[];
}

export interface TrainResult {
  runDir: string;
  /** Empty when `interrupted`. */
  scores: Record<string, number>;
  summary: Summary;
  /** Stopped by SIGINT/SIGTERM after writing a resumable checkpoint; nothing else was written (exit 130). */
  interrupted: boolean;
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
  /** Epochs completed (the same count as `epoch` in metrics.jsonl and checkpoints). */
  epochs: number;
  stopReason: string;
  /** Wall and CPU seconds per phase of this process (a resumed run: of the resumed part), and in all. */
  timing: Record<Phase | 'total', PhaseTime>;
  /** Training examples (rows of every batch of every step) this process trained on. */
  examples: number;
  /** `examples` per wall second of the train phase (0 when it took no measurable time). */
  examplesPerSecond: number;
  /** What the data's true parameters score, by score key, when the data knows them (generated logistic tasks: the true weights' accuracy). */
  ceiling?: Record<string, number>;
}

/** Trainer options from the config's `training` section, with the run's checkpoint folder. */
export function trainerOptions(prepared: Prepared, runDir: string) {
  return { ...trainerConfig(prepared), checkpointDir: join(runDir, RUN_FILES.checkpoints) };
}

/**
 * `mtl train`: validates everything before writing anything (the {@link preflight} that
 * `mtl validate` runs), then trains into a fresh run directory, saves the model, scores every
 * task on every split and writes the summary. A run that fails before its first checkpoint
 * removes what it created, so the corrected rerun can use the same `--out`. Even with `--quiet`
 * it prints the run directory and one final line.
 */
export async function train(args: TrainArgs): Promise<TrainResult> {
  const print = args.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  let printed = false;
  const write = (line: string) => {
    if (!printed) startupMark('first-output');
    printed = true;
    print(line);
  };
  const clock = new PhaseClock();
  const result =
    args.resume !== undefined ? await resumeRun(args, write, clock) : await freshRun(args, write, clock);
  // Even with --quiet: how the run ended, where it is, and where the time went.
  if (!result.interrupted) write(finalLine(result.summary, result.runDir));
  return result;
}

async function freshRun(
  args: TrainArgs,
  write: (line: string) => void,
  clock: PhaseClock,
): Promise<TrainResult> {
  const loaded = clock.measure('load', () => loadConfig(args.config!, args.set ?? []));
  startupMark('config');
  const fromDir = args.from === undefined ? undefined : checkRunDir(args.from, '--from');
  const prepared = await prepare(loaded, {
    backend: args.backend,
    clock,
    ...(args.onlyTasks === undefined ? {} : { onlyTasks: args.onlyTasks }),
  });
  const { run } = prepared;
  let made: MadeRunDir | undefined;
  try {
    await preflight(prepared);
    startupMark('preflight');
    const warm: WarmStart =
      fromDir === undefined
        ? { reused: [], new: run.moduleNames(), dropped: [], reshaped: [] }
        : await run.warmStart(join(fromDir, RUN_FILES.model));
    made = makeRunDir(args.out ?? defaultRunDir(loaded.name));
    const runDir = made.dir;
    await writeResolvedConfig(runDir, loaded);
    await writeJson(join(runDir, RUN_FILES.run), { from: fromDir ?? null, warm } satisfies RunRecord);
    write(`run: ${runDir} (backend ${prepared.backend})`);
    if (args.verbose) write(nativeLine(prepared.backend));
    if (!args.quiet && fromDir !== undefined) {
      write(
        `from ${fromDir}: reused ${list(warm.reused)}; new ${list(warm.new)}; dropped ${list(warm.dropped)}; reshaped ${list(warm.reshaped)}`,
      );
      for (const line of removedTaskLines(fromDir, run.taskNames, warm.dropped)) write(line);
    }
    return await execute(prepared, runDir, warm, undefined, args, write, clock);
  } catch (e) {
    if (made !== undefined) removeUnstartedRun(made);
    throw e;
  } finally {
    run.dispose();
  }
}

/**
 * One line per task of the `--from` run that this config no longer has, naming the modules that
 * went with it: a head dropped by omission is said out loud, not only listed in summary.json.
 */
function removedTaskLines(fromDir: string, tasks: readonly string[], dropped: readonly string[]): string[] {
  let previous: Record<string, { ops?: unknown }> = {};
  try {
    const config = parseYaml(readFileSync(join(fromDir, RUN_FILES.config), 'utf8')) as {
      tasks?: Record<string, { ops?: unknown }>;
    };
    previous = config?.tasks ?? {};
  } catch {
    return [];
  }
  const lines: string[] = [];
  for (const [task, spec] of Object.entries(previous)) {
    if (tasks.includes(task)) continue;
    const ops = Array.isArray(spec?.ops) ? spec.ops : [];
    const used = ops.map((op) => (typeof op === 'string' ? op : (op as { module?: unknown })?.module));
    // VAE runs copy per-task modules as `<task>.<module>`.
    const gone = dropped.filter((m) => used.includes(m) || m.startsWith(`${task}.`));
    lines.push(
      gone.length === 0
        ? `task ${task} of the --from run is not in this config; none of its modules is dropped (other tasks use them)`
        : `task ${task} of the --from run is not in this config: dropped its ${gone.length === 1 ? 'module' : 'modules'} ${gone.join(', ')}`,
    );
  }
  return lines;
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
  checkpointed: boolean,
): Promise<Record<string, number>> {
  try {
    const out = await scores;
    const bad = Object.entries(out).find(([k, v]) => k.endsWith('/loss') && !Number.isFinite(v));
    if (bad) throw divergence(taskAndDataset(bad[0]), `its ${bad[0]} is ${bad[1]}`, step, lr, checkpointed);
    return out;
  } catch (e) {
    if (isMtlError(e, 'DATA_NON_FINITE') && /preds|probs/.test(e.message)) {
      throw divergence(e.place ?? 'evaluation', 'its outputs are not finite', step, lr, checkpointed);
    }
    throw e;
  }
}

/** `task/dataset` of a score key (the key itself when it is not one), naming where a loss diverged. */
function taskAndDataset(key: string): string {
  if (!isScoreKey(key)) return key;
  const { task, dataset } = parseScoreKey(key);
  return `${task}/${dataset}`;
}

function divergence(place: string, what: string, step: number, lr: number, checkpointed: boolean): MtlError {
  // Before the first checkpoint the run directory is removed (nothing to resume from).
  const kept = checkpointed ? 'the last good checkpoint is kept' : 'no checkpoint was written yet';
  return new MtlError(
    'NON_FINITE_LOSS',
    `training diverged: after step ${step} (learning rate ${lr}) ${what}; ${kept} (lower the learning rate or clip gradients)`,
    { place },
  );
}

/**
 * `mtl train --resume RUN_DIR`: continues a run from its last checkpoint with the run's own resolved
 * config; a run killed before its first checkpoint starts again (redoing its warm start). Ends
 * with the same numbers as an uninterrupted run.
 */
async function resumeRun(
  args: TrainArgs,
  write: (line: string) => void,
  clock: PhaseClock,
): Promise<TrainResult> {
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
  const loaded = clock.measure('load', () => loadConfig(configFile));
  const prepared = await prepare(loaded, { backend: args.backend, clock });
  const { run } = prepared;
  try {
    const last = join(runDir, RUN_FILES.checkpoints, CHECKPOINT_FILES.last);
    const warm: WarmStart = record?.warm ?? { reused: [], new: run.moduleNames(), dropped: [], reshaped: [] };
    const resumeFrom = existsSync(last) ? last : undefined;
    if (resumeFrom === undefined && record?.from) await run.warmStart(join(record.from, RUN_FILES.model));
    write(
      `resuming ${runDir} ${resumeFrom ? 'from its last checkpoint' : 'from the start (no checkpoint yet)'}`,
    );
    if (args.verbose) write(nativeLine(prepared.backend));
    return await execute(prepared, runDir, warm, resumeFrom, args, write, clock);
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

/**
 * Trains (or resumes), then saves the model and writes scores, mixing and summary, each atomically.
 * SIGINT/SIGTERM during training ends it after the current step with a resumable `last.ckpt`
 * (result `interrupted`, nothing else written); a second signal exits at once (130), removing any
 * half-written temporary file first.
 */
async function execute(
  prepared: Prepared,
  runDir: string,
  warm: WarmStart,
  resumeFrom: string | undefined,
  args: TrainArgs,
  write: (line: string) => void,
  clock: PhaseClock,
): Promise<TrainResult> {
  const { run } = prepared;
  const warn = args.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const options = trainerOptions(prepared, runDir);
  const aggregator = weightingFor(prepared.loaded.config, run.taskNames);
  const trainer = new Trainer(options, { aggregator, groupLr: moduleLr(prepared) });
  const monitor = conflictMonitor(run, prepared.rng, prepared.loaded.config.training.monitor.conflicts);
  const validSplit = prepared.loaded.config.training.validSplit;
  const hasValid = Object.values(prepared.taskData).some((d) => d.splits[validSplit] !== undefined);
  let examples = 0;
  // Counts the rows each step trains on (examples/s); the Trainer sees the model's own loss.
  const counted: Trainable<StepBatches> = {
    trainableVariables: () => run.trainable.trainableVariables(),
    // Which variables the tasks share: what a gradient-level method combines.
    ...(run.trainable.parameterGroups ? { parameterGroups: () => run.trainable.parameterGroups!() } : {}),
    loss: (batches, ctx) => {
      for (const b of batches) examples += b.size;
      return run.trainable.loss(batches, ctx);
    },
    // Gradients of the shared representation (gradientOf: representation), when the model has one.
    ...(run.trainable.representation
      ? {
          representation: (batches: StepBatches, ctx: StepContext) => {
            for (const b of batches) examples += b.size;
            return run.trainable.representation!(batches, ctx);
          },
        }
      : {}),
  };
  const interrupt = new AbortController();
  let training = true;
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      removeStaleTemporaries(runDir);
      warn(`${signal} again: exiting now; mtl train --resume ${runDir} continues from the last checkpoint`);
      process.exit(130);
    }
    if (training) {
      interrupt.abort();
      warn(`${signal}: stopping after the current step and writing a checkpoint (again to quit at once)`);
    } else warn(`${signal}: training is done; finishing the run's files (again to quit at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let stepped = false;
  try {
    let evaluating = { wallSeconds: 0, cpuSeconds: 0 };
    const fitStart = timeMark();
    const result = await trainer.fit(counted, {
      train: run.trainSource(),
      ...(hasValid
        ? {
            evaluate: async (info: { step: number; epoch: number }) => {
              const from = timeMark();
              try {
                const scores = await guardDivergence(
                  run.evaluate(validSplit, info.step),
                  info.step,
                  options.lr,
                  existsSync(join(runDir, RUN_FILES.checkpoints, CHECKPOINT_FILES.last)),
                );
                return monitor === undefined ? scores : { ...scores, ...monitor.measure(info) };
              } finally {
                const t = since(from);
                evaluating = {
                  wallSeconds: evaluating.wallSeconds + t.wallSeconds,
                  cpuSeconds: evaluating.cpuSeconds + t.cpuSeconds,
                };
              }
            },
          }
        : {}),
      ...(resumeFrom === undefined ? {} : { resumeFrom }),
      signal: interrupt.signal,
      callbacks: [
        new JsonlMetricsLogger(join(runDir, RUN_FILES.metrics)),
        progressReporter({
          write,
          quiet: args.quiet ?? false,
          ...(args.bar === undefined ? {} : { bar: args.bar }),
        }),
        ...(args.extraCallbacks ?? []),
        // A signal is an event: let the loop see it between steps.
        {
          onStepEnd: () => {
            if (!stepped) startupMark('first-step');
            stepped = true;
            return new Promise<void>((r) => setImmediate(r));
          },
        },
      ],
    });
    training = false;
    const fitTime = since(fitStart);
    clock.add('evaluate', evaluating);
    clock.add('train', {
      wallSeconds: Math.max(0, fitTime.wallSeconds - evaluating.wallSeconds),
      cpuSeconds: Math.max(0, fitTime.cpuSeconds - evaluating.cpuSeconds),
    });
    const summaryOf = (): Summary => {
      const timing = clock.times();
      const trainSeconds = timing.train.wallSeconds;
      const ceiling = dataCeilings(prepared.sources);
      return {
        ...(Object.keys(ceiling).length === 0 ? {} : { ceiling }),
        tasks: run.taskNames,
        modules: run.moduleNames(),
        ...warm,
        backend: prepared.backend,
        steps: result.step,
        epochs: result.epoch,
        stopReason: result.stopReason,
        timing,
        examples,
        examplesPerSecond: trainSeconds > 0 ? examples / trainSeconds : 0,
      };
    };
    if (result.stopReason === 'interrupted') {
      const last = result.checkpoints.last ?? join(runDir, RUN_FILES.checkpoints, CHECKPOINT_FILES.last);
      warn(
        `interrupted after step ${result.step} (${result.epoch} epochs completed); checkpoint ${last}. Resume with: mtl train --resume ${runDir}`,
      );
      return { runDir, scores: {}, summary: summaryOf(), interrupted: true };
    }
    await run.save(join(runDir, RUN_FILES.model));
    const scores = sortedScores(await clock.measure('evaluate', () => run.scoreAll()));
    await writeJson(join(runDir, RUN_FILES.scores), scores);
    const mixing = run.mixing();
    if (mixing !== null) await writeJson(join(runDir, RUN_FILES.mixing), mixing);
    if (monitor !== undefined) {
      const conflicts = await conflictFileOf(join(runDir, RUN_FILES.metrics), monitor.tasks);
      if (conflicts !== undefined) await writeJson(join(runDir, CONFLICT_FILE), conflicts);
    }
    // The gates of the model as saved: the best epoch's when its weights were restored.
    await clock.measure('evaluate', async () =>
      run.recordFinalGates?.({
        step: result.restoredBest && result.best !== null ? result.best.step : result.step,
        restoredBest: result.restoredBest,
      }),
    );
    const gates = run.gates?.() ?? null;
    if (gates !== null) await writeJson(join(runDir, RUN_FILES.gates), gates);
    const summary = summaryOf();
    await writeJson(join(runDir, RUN_FILES.summary), summary);
    if (!args.quiet) {
      write('');
      write(formatScoreTable(scores));
    }
    return { runDir, scores, summary, interrupted: false };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    aggregator.dispose?.();
    monitor?.dispose();
  }
}

/** The last console line: how the run ended, where it is, and where the time went. */
export function finalLine(summary: Summary, runDir: string): string {
  const t = summary.timing;
  const s = (x: PhaseTime) => `${x.wallSeconds.toFixed(1)}s`;
  const rate = summary.examplesPerSecond;
  return (
    `done (${summary.stopReason}): ${summary.steps} steps, ${summary.epochs} epochs in ${s(t.total)} ` +
    `(load ${s(t.load)}, build ${s(t.build)}, train ${s(t.train)}, evaluate ${s(t.evaluate)}; ` +
    `cpu ${t.total.cpuSeconds.toFixed(1)}s), ${rate >= 100 ? rate.toFixed(0) : rate.toPrecision(3)} examples/s; run: ${runDir}`
  );
}

function list(names: readonly string[]): string {
  return names.length === 0 ? '(none)' : names.join(', ');
}
