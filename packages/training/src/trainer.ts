import {
  ALL_DATASET,
  type BatchSource,
  joinUrl,
  type LossOutput,
  listNames,
  MtlError,
  modelScoreKey,
  type ParameterGroup,
  RandomStream,
  type RepresentationStep,
  type StepContext,
  saveArtifacts,
  scoreKey,
  type Trainable,
} from '@mtl/core';
import { sumScalars } from '@mtl/core/ops';
import * as tf from '@tensorflow/tfjs';
import type { Aggregator, AggregatorContext } from './aggregator.js';
import type { TrainerCallbacks } from './callbacks.js';
import {
  assignVariables,
  type Checkpoint,
  checkpointArtifacts,
  loadCheckpoint,
  type NamedArray,
  readVariables,
} from './checkpoint.js';
import {
  inferMetricMode,
  parseTrainerConfig,
  type TrainerConfig,
  type TrainerConfigInput,
} from './config.js';
import type { EvaluateFn } from './contracts.js';
import { LossSums, taskOfPart } from './internal/loss-sums.js';
import { MetricTracker } from './internal/metric-tracker.js';
import { type CollectedStep, type CollectStep, updatePath } from './internal/update-path.js';
import { LrSchedule } from './lr-schedule.js';
import { type OptimizerState, type OptimizerUpdates, TrainerOptimizer } from './optimizer.js';
import type { HistoryRecord, SavedVariable, TrainerState } from './trainer-state.js';
import { weightedSum, weightedSumWeights } from './weighted-sum.js';

/**
 * What {@link Trainer.fit} needs besides the trainable.
 * @example
 * const options: FitOptions<Batch[]> = { train: scheduleBatches(loaders, 'shuffled'), evaluate: () => model.score(valid) };
 */
export interface FitOptions<B> {
  /** Training batches; their order (scheduler) is the builder's choice, e.g. @mtl/data's `scheduleBatches`. */
  train: BatchSource<B>;
  /** Scores on held-out data, called at every evaluation; keys `task/dataset/split/metric`. */
  evaluate?: EvaluateFn;
  callbacks?: TrainerCallbacks | readonly TrainerCallbacks[];
  /** A checkpoint written by a Trainer (`last.ckpt`, `best.ckpt`): continue that run exactly. */
  resumeFrom?: string;
  /**
   * Aborting it ends the run after the current step, like {@link Trainer.stop}, with stopReason
   * `'interrupted'` (and `last.ckpt` written when a checkpoint folder is set), e.g. on Ctrl-C. The
   * signal is read between steps: a caller that aborts from an event (a process signal) must let the
   * event loop run, e.g. with an `onStepEnd` hook that awaits `setImmediate`.
   */
  signal?: AbortSignal;
}

/**
 * Why a run ended: the configured epochs/steps were done, early stopping fired, `stop()` was
 * called, or the `signal` of {@link FitOptions} was aborted.
 * @example
 * if (result.stopReason === 'early_stopping') console.log('stopped early at', result.epoch);
 */
export type StopReason = 'completed' | 'early_stopping' | 'stopped' | 'interrupted';

/**
 * What {@link Trainer.fit} returns.
 * @example
 * const { history, best, stopReason } = await trainer.fit(model, { train });
 */
export interface FitResult {
  /** Every record of the run (for a resumed run: of the whole run, before and after the resume). */
  history: HistoryRecord[];
  /** Optimizer steps completed. */
  step: number;
  /** Epochs completed. */
  epoch: number;
  stopReason: StopReason;
  /** Best value of the checkpoint metric, when one is set and was ever finite. */
  best: { metric: string; value: number; step: number; epoch: number } | null;
  /** Whether the best weights were put back into the variables at the end. */
  restoredBest: boolean;
  /** Checkpoint files written (when `checkpointDir` is set). */
  checkpoints: { last?: string; best?: string };
}

/**
 * File names inside `checkpointDir`.
 * @example
 * const last = join(config.checkpointDir, CHECKPOINT_FILES.last); // .../last.ckpt
 */
export const CHECKPOINT_FILES = { last: 'last.ckpt', best: 'best.ckpt' } as const;

/**
 * Trains any {@link Trainable} on any {@link BatchSource}: per-task losses combined by an
 * {@link Aggregator} (default the weighted sum of `taskWeights`), optional L2, gradient clipping by
 * global norm, an optimizer and a learning-rate schedule with warmup, periodic evaluation,
 * best/last checkpoints, early stopping, exact resume, and a NaN/Inf guard.
 *
 * A loss-level step: `total = combine(task losses) + extra + Σ terms + 0.5·l2·Σ‖w‖²` (weightedSum:
 * `Σ taskWeights[task]·part`, part by part); gradients of `total` by `tf.variableGrads`; the losses
 * and the gradient norm are read back every step (to log the losses and stop on a non-finite value
 * before any weight changes); clip; update with the step's rate. With the host update strategy
 * (see {@link OptimizerUpdates}) the gradients themselves are read back and the update runs on the
 * host; with the tensor strategy, one read-back of [parts, extra, terms, total, norm]. A
 * gradient-level step: see the package README.
 * @example
 * const trainer = new Trainer({ epochs: 20, lr: 0.1, optimizer: { type: 'sgd' } });
 * const result = await trainer.fit(model, { train: source, evaluate: () => model.score(valid) });
 * result.history.at(-1)?.metrics['model/all/train/loss'];
 */
export class Trainer {
  readonly config: TrainerConfig;
  /** The aggregator given to the constructor (undefined: `weightedSum(config.taskWeights)`). */
  readonly aggregator: Aggregator | undefined;
  /** Learning-rate multipliers by parameter group (see {@link TrainerOptions.groupLr}). */
  readonly groupLr: Readonly<Record<string, number>> | undefined;
  private stopRequested = false;

  constructor(config: TrainerConfigInput | TrainerConfig = {}, options: TrainerOptions = {}) {
    this.config = parseTrainerConfig(config);
    this.aggregator = options.aggregator;
    this.groupLr = options.groupLr;
  }

  /**
   * Continues the run saved in `path` with the configuration saved there (or `config` to change it,
   * e.g. more epochs).
   * @example
   * const result = await Trainer.resume('runs/a/checkpoints/last.ckpt', model, { train: source });
   */
  static async resume<B>(
    path: string,
    trainable: Trainable<B>,
    options: Omit<FitOptions<B>, 'resumeFrom'> & {
      config?: TrainerConfigInput;
      aggregator?: Aggregator;
      groupLr?: Readonly<Record<string, number>>;
    },
  ): Promise<FitResult> {
    const checkpoint = await loadCheckpoint(path);
    if (!checkpoint.trainer) throw noTrainerState(path);
    const { config, aggregator, groupLr, ...fitOptions } = options;
    const trainer = new Trainer(config ?? checkpoint.trainer.config, { aggregator, groupLr });
    return trainer.run(trainable, fitOptions, { path, checkpoint });
  }

  /** Asks the running `fit` to end after the current step (writing `last.ckpt` if a folder is set). */
  stop(): void {
    this.stopRequested = true;
  }

  /** Trains `trainable` on `options.train`; see {@link FitOptions} and the package README. */
  async fit<B>(trainable: Trainable<B>, options: FitOptions<B>): Promise<FitResult> {
    const { resumeFrom, ...rest } = options;
    if (resumeFrom === undefined) return this.run(trainable, rest, undefined);
    const checkpoint = await loadCheckpoint(resumeFrom);
    if (!checkpoint.trainer) throw noTrainerState(resumeFrom);
    return this.run(trainable, rest, { path: resumeFrom, checkpoint });
  }

  private async run<B>(
    trainable: Trainable<B>,
    options: Omit<FitOptions<B>, 'resumeFrom'>,
    resume: { path: string; checkpoint: Checkpoint } | undefined,
  ): Promise<FitResult> {
    this.stopRequested = false;
    const { signal } = options;
    const run = new TrainingRun(
      this.config,
      trainable,
      options,
      this.aggregator ?? weightedSum(this.config.taskWeights),
      this.groupLr,
      (): StopReason | undefined =>
        signal?.aborted ? 'interrupted' : this.stopRequested ? 'stopped' : undefined,
    );
    try {
      if (resume) run.restore(resume.checkpoint, resume.path);
      return await run.train(resume !== undefined);
    } finally {
      run.dispose();
    }
  }
}

function noTrainerState(path: string): MtlError {
  return new MtlError(
    'CHECKPOINT_MISMATCH',
    'the checkpoint has no trainer state (it holds weights only) and cannot be resumed; load it with loadCheckpoint + assignVariables',
    { place: path },
  );
}

/**
 * Options of a {@link Trainer} that are objects rather than configuration.
 * @example
 * const trainer = new Trainer({ epochs: 10 }, { aggregator: weightedSum({ a: 2, b: 1 }) });
 */
export interface TrainerOptions {
  /**
   * How per-task losses become one update (see {@link Aggregator}); default
   * `weightedSum(config.taskWeights)`. The caller owns it: the Trainer neither copies nor disposes
   * it, and its state and variables are saved in (and restored from) trainer checkpoints.
   */
  aggregator?: Aggregator | undefined;
  /**
   * Learning-rate multipliers by parameter group name (`Trainable.parameterGroups()`; for
   * `MultitaskModel` a module's name), default 1: every variable of the group is updated with
   * `lr · multiplier` (the schedule's rate times it), e.g. `{ trunk: 0.1 }` for a pretrained trunk,
   * 0 to hold a group still. A name that is no group is `INVALID_ARGUMENT`. Not saved in
   * checkpoints: pass the same to a resumed run.
   */
  groupLr?: Readonly<Record<string, number>> | undefined;
}

/** One call of fit: the state of a run and its loop. */
class TrainingRun<B> {
  /** The model's variables. */
  private readonly vars: tf.Variable[];
  /** The aggregator's learnable variables (loss level). */
  private readonly aggVars: tf.Variable[];
  /** What the optimizer updates: the model's variables, then the aggregator's. */
  private readonly optVars: tf.Variable[];
  /** weightedSum's weights: its step sums the weighted parts directly (the step before the seam, bit for bit). */
  private readonly fused: Readonly<Record<string, number>> | undefined;
  /** Shared and task-owned variables (gradient level only). */
  private readonly groups: VariableGroups | undefined;
  /** The aggregator's last weight of each task (logged `<task>/all/train/weight`). */
  private taskWeightLog: Record<string, number> = {};
  private readonly source: BatchSource<B>;
  private readonly evaluate: EvaluateFn | undefined;
  private readonly callbacks: TrainerCallbacks[];
  private readonly batchesPerEpoch: number;
  private readonly totalSteps: number;
  private rng: RandomStream;
  private readonly optimizer: TrainerOptimizer;
  /** How a loss-level step hands its gradients to the optimizer (its host or tensor strategy). */
  private readonly collect: CollectStep;
  private readonly schedule: LrSchedule;
  private readonly restoreBest: boolean;
  private checkpointDir: string | undefined;
  private readonly written: { last?: string; best?: string } = {};

  private step = 0;
  private epoch = 0;
  private batchInEpoch = 0;
  private lr = 0;
  private readonly sums = new LossSums();
  private history: HistoryRecord[] = [];
  private best: MetricTracker | null = null;
  private early: MetricTracker | null = null;
  private lastEvalStep = -1;
  /** The gradient sums of an open accumulation window (`accumulate` > 1), and its last batch's numbers. */
  private window: AccumulationWindow | undefined;
  private seenTasks = new Set<string>();
  private taskWeightsChecked = false;
  private bestWeights: NamedArray[] | undefined;

  constructor(
    private readonly cfg: TrainerConfig,
    private readonly trainable: Trainable<B>,
    options: Omit<FitOptions<B>, 'resumeFrom'>,
    private readonly aggregator: Aggregator,
    groupLr: Readonly<Record<string, number>> | undefined,
    /** Why the caller wants the run to end after this step, if it does. */
    private readonly stopRequested: () => StopReason | undefined,
  ) {
    this.vars = trainable.trainableVariables();
    if (this.vars.length === 0) {
      throw new MtlError('INVALID_ARGUMENT', 'the trainable has no trainable variables', {
        place: 'Trainer.fit',
      });
    }
    this.fused = weightedSumWeights(aggregator);
    checkAggregator(aggregator, this.fused !== undefined, typeof trainable.representation === 'function');
    this.aggVars = aggregator.trainableVariables?.() ?? [];
    this.optVars = this.aggVars.length === 0 ? this.vars : [...this.vars, ...this.aggVars];
    this.groups =
      aggregator.level === 'gradient' ? variableGroups(this.vars, trainable.parameterGroups?.()) : undefined;
    const seen = new Set<string>();
    for (const v of this.optVars) {
      if (seen.has(v.name)) {
        throw new MtlError('DUPLICATE_NAME', `two trainable variables are named "${v.name}"`, {
          place: 'Trainer.fit',
        });
      }
      seen.add(v.name);
    }
    this.source = options.train;
    this.evaluate = options.evaluate;
    const cbs = options.callbacks;
    this.callbacks = cbs === undefined ? [] : Array.isArray(cbs) ? [...cbs] : [cbs as TrainerCallbacks];
    const bpe = this.source.batchesPerEpoch();
    if (!Number.isInteger(bpe) || bpe <= 0) {
      throw new MtlError('DATA_EMPTY', `the batch source has ${bpe} batches per epoch`, {
        place: 'Trainer.fit train',
      });
    }
    this.batchesPerEpoch = bpe;
    this.totalSteps = cfg.steps ?? cfg.epochs * Math.ceil(bpe / cfg.accumulate);
    this.rng = new RandomStream(cfg.seed);
    this.optimizer = new TrainerOptimizer(cfg.optimizer, {
      lrScales: lrScales(this.vars, trainable.parameterGroups?.(), groupLr),
    });
    this.collect = updatePath(this.optimizer);
    this.schedule = new LrSchedule({ lr: cfg.lr, schedule: cfg.lrSchedule, totalSteps: this.totalSteps });
    if (cfg.checkpointMetric !== undefined) {
      const mode = cfg.checkpointMode ?? inferMetricMode(cfg.checkpointMetric);
      this.best = new MetricTracker(cfg.checkpointMetric, mode);
    }
    const es = cfg.earlyStopping;
    if (es) {
      const metric = es.metric ?? cfg.checkpointMetric!;
      const mode =
        es.mode ??
        (metric === cfg.checkpointMetric ? this.best?.state.mode : undefined) ??
        inferMetricMode(metric);
      this.early = new MetricTracker(metric, mode, es.minDelta);
    }
    this.restoreBest = cfg.restoreBest ?? cfg.checkpointMetric !== undefined;
    this.checkpointDir = cfg.checkpointDir;
  }

  restore(checkpoint: Checkpoint, path: string): void {
    const s = checkpoint.trainer!;
    assignVariables(this.vars, checkpoint.weights, path);
    this.restoreAggregator(s, path);
    if (checkpoint.optimizer) {
      const names = new Map(this.aggVars.map((v, i) => [`${AGGREGATOR_VARIABLE}${i}`, v.name]));
      this.optimizer.setState(renameOptimizerVariables(checkpoint.optimizer, names), this.optVars, path);
    }
    if (s.batchInEpoch > this.batchesPerEpoch) {
      throw new MtlError(
        'CHECKPOINT_MISMATCH',
        `the checkpoint is ${s.batchInEpoch} batches into epoch ${s.epoch} but the source has ${this.batchesPerEpoch} per epoch`,
        { place: path },
      );
    }
    if (s.batchInEpoch % this.cfg.accumulate !== 0 && s.batchInEpoch < this.batchesPerEpoch) {
      throw new MtlError(
        'CHECKPOINT_MISMATCH',
        `the checkpoint is ${s.batchInEpoch} batches into epoch ${s.epoch}, not at the end of a window of accumulate ${this.cfg.accumulate} batches; resume with the accumulate it was saved with`,
        { place: path },
      );
    }
    this.step = s.step;
    this.epoch = s.epoch;
    this.batchInEpoch = s.batchInEpoch;
    this.lr = s.lr;
    this.sums.setState(s.epochLosses);
    this.schedule.setState(s.schedule);
    this.rng = RandomStream.fromState(s.rng);
    this.history = s.history.map((r) => ({ ...r, metrics: { ...r.metrics } }));
    // A tracker continues only if it watches the same metric the same way.
    if (this.best && s.best && s.best.metric === this.best.metric && s.best.mode === this.best.state.mode) {
      this.best = MetricTracker.fromState(s.best);
    }
    if (this.early && s.earlyStopping && s.earlyStopping.metric === this.early.metric) {
      this.early = MetricTracker.fromState({ ...s.earlyStopping, minDelta: this.early.state.minDelta });
    }
    this.lastEvalStep = s.lastEvalStep;
    this.seenTasks = new Set(s.seenTasks);
    this.taskWeightsChecked = s.taskWeightsChecked;
    this.taskWeightLog = { ...(s.aggregator?.weights ?? {}) };
    if (this.restoreBest && checkpoint.bestWeights) this.bestWeights = checkpoint.bestWeights;
  }

  /** The aggregator's variables and state as saved; a different or missing aggregator is refused. */
  private restoreAggregator(s: TrainerState, path: string): void {
    const saved = s.aggregator;
    const agg = this.aggregator;
    const stateful = this.aggVars.length > 0 || agg.setState !== undefined;
    if (saved === undefined) {
      if (stateful) {
        throw new MtlError(
          'CHECKPOINT_MISMATCH',
          `the checkpoint holds no aggregator state, but aggregator "${agg.name}" has state or variables`,
          { place: path },
        );
      }
      return;
    }
    if (saved.name !== agg.name) {
      throw new MtlError(
        'CHECKPOINT_MISMATCH',
        `the checkpoint was trained with aggregator "${saved.name}", but this run uses "${agg.name}"`,
        { place: path },
      );
    }
    assignVariables(
      this.aggVars,
      (saved.variables ?? []).map((v) => ({
        name: this.aggVars[aggregatorVariableIndex(v.name)]?.name ?? v.name,
        dtype: 'float32' as const,
        shape: v.shape,
        values: Float32Array.from(v.values),
      })),
      `${path} aggregator ${agg.name}`,
    );
    if (saved.state !== undefined) agg.setState?.(saved.state);
  }

  async train(resumed: boolean): Promise<FitResult> {
    for (const cb of this.callbacks) {
      await cb.onTrainBegin?.({
        step: this.step,
        epoch: this.epoch,
        totalSteps: this.totalSteps,
        batchesPerEpoch: this.batchesPerEpoch,
        resumed,
      });
    }
    let stop: StopReason | undefined = this.step >= this.totalSteps ? 'completed' : undefined;
    while (stop === undefined) stop = await this.trainEpoch();
    let restoredBest = false;
    if (this.restoreBest && this.bestWeights) {
      assignVariables(this.vars, this.bestWeights, 'best weights');
      restoredBest = true;
    }
    const b = this.best?.state;
    const result: FitResult = {
      history: this.history,
      step: this.step,
      epoch: this.epoch,
      stopReason: stop,
      best:
        b && b.value !== null ? { metric: b.metric, value: b.value, step: b.step!, epoch: b.epoch! } : null,
      restoredBest,
      checkpoints: { ...this.written },
    };
    for (const cb of this.callbacks) await cb.onTrainEnd?.(result);
    return result;
  }

  /** Runs (the rest of) one epoch; returns why training stops, or undefined to go on. */
  private async trainEpoch(): Promise<StopReason | undefined> {
    const epochRng = this.rng.child(`epoch-${this.epoch}`);
    const iterator = this.source.epoch(this.epoch, epochRng)[Symbol.iterator]();
    let pending: IteratorResult<B> | undefined;
    try {
      // A run resumed mid-epoch regenerates the same order and skips what it already trained.
      for (let i = 0; i < this.batchInEpoch; i++) {
        const skipped = iterator.next();
        if (skipped.done) break;
        this.source.dispose?.(skipped.value);
      }
      pending = iterator.next();
      if (pending.done && this.batchInEpoch === 0) {
        throw new MtlError('DATA_EMPTY', `the batch source yielded no batch in epoch ${this.epoch}`, {
          place: 'Trainer.fit train',
        });
      }
      if (pending.done) {
        throw new MtlError(
          'CHECKPOINT_MISMATCH',
          `the run was resumed ${this.batchInEpoch} batches into epoch ${this.epoch}, but the batch source has no more batches there`,
          { place: 'Trainer.fit train' },
        );
      }
      while (!pending.done) {
        const batch = pending.value;
        pending = undefined;
        try {
          await this.trainStep(batch);
        } finally {
          this.source.dispose?.(batch);
        }
        if (this.window !== undefined) {
          // Inside an accumulation window: no update yet, so nothing to log, evaluate or save.
          pending = iterator.next();
          if (!pending.done) continue;
          // The source ended inside a window (before the batches it announced): they make the update.
          await this.applyWindow();
          return await this.afterStep(true);
        }
        const limit = this.step >= this.totalSteps || this.stopRequested() !== undefined;
        // Peek at the next batch so an epoch end is known before deciding to log and evaluate.
        if (!limit) pending = iterator.next();
        const epochEnd = limit ? this.batchInEpoch >= this.batchesPerEpoch : pending!.done === true;
        const stop = await this.afterStep(epochEnd);
        if (stop !== undefined || epochEnd) return stop;
        if (pending === undefined) return undefined;
      }
      return undefined;
    } finally {
      if (pending !== undefined && !pending.done) this.source.dispose?.(pending.value);
      iterator.return?.();
    }
  }

  private async trainStep(batch: B): Promise<void> {
    const step = this.step;
    // A batch after the first of an accumulation window draws its own random numbers.
    const micro = this.window?.count ?? 0;
    const ctx: StepContext = {
      step,
      epoch: this.epoch,
      seed: this.rng.childSeed(micro === 0 ? `step-${step}` : `step-${step}/${micro}`),
      training: true,
    };
    const lr = this.schedule.lrAt(step, this.epoch);
    if (this.aggregator.level === 'gradient') {
      if (this.aggregator.gradientOf === 'representation') return this.representationStep(batch, ctx, lr);
      return this.gradientStep(batch, ctx, lr);
    }
    let layout: StepLayout | undefined;
    let actx: AggregatorContext | undefined;
    let kept: tf.Tensor[] = [];
    let collected: CollectedStep | undefined;
    try {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const loss = readLoss(this.trainable.loss(batch, ctx), step);
          layout = loss.layout;
          if (this.fused === undefined) actx = this.aggregatorContext(step, layout.tasks);
          const total = this.lossObjective(loss, actx);
          kept = [...loss.parts, ...(loss.extra ? [loss.extra] : []), ...loss.terms, total].map((t) =>
            tf.keep(t),
          );
          return total;
        }, this.optVars);
        // The strategy keeps what it needs (tf.keep); everything else of the step is freed here.
        collected = this.collect(grads, kept, this.optVars);
      });
    } catch (e) {
      tf.dispose(kept);
      throw noConnection(e, step);
    }
    const c = collected!;
    try {
      const read = c.read();
      const { values, norm } = read instanceof Promise ? await read : read;
      const lay = layout!;
      const total = values[lay.totalIndex]!;
      this.checkFinite(lay, values, total, norm, lr, (name) => c.gradient(name));
      if (this.cfg.accumulate > 1) {
        const grads = new Map<string, ArrayLike<number>>();
        for (const v of this.optVars) {
          const g = c.gradient(v.name);
          if (g !== undefined) grads.set(v.name, g);
        }
        const obs = actx === undefined ? undefined : { actx, losses: taskLossValues(lay, values) };
        await this.accumulateStep(grads, lay, values, total, lr, obs);
        return;
      }
      c.apply(lr, this.cfg.gradClipNorm, norm);
      if (actx !== undefined) this.observe(actx, taskLossValues(lay, values));
      await this.finishStep(lay, values, total, lr);
    } finally {
      c.dispose();
      tf.dispose(kept);
    }
  }

  /**
   * A gradient-level step. tfjs keeps no tape after a backward pass, so each task's gradient is one
   * forward and backward pass of `loss(batch, ctx)` (the same batch and seed: the same numbers),
   * plus one pass for the terms of no task (extra, named terms, L2) when there are any.
   */
  private async gradientStep(batch: B, ctx: StepContext, lr: number): Promise<void> {
    const step = this.step;
    const groups = this.groups!;
    let layout: StepLayout | undefined;
    let kept: tf.Tensor[] = [];
    let stats: Float32Array;
    const passes: Map<string, Float32Array>[] = [];
    const lossValues: number[] = [];
    let rest: { grads: Map<string, Float32Array>; value: number } | undefined;
    const pass = (
      target: (loss: ParsedLoss) => tf.Scalar,
    ): { grads: Map<string, Float32Array>; value: number } => {
      const r = tf.tidy(() =>
        tf.variableGrads(() => {
          const loss = readLoss(this.trainable.loss(batch, ctx), step);
          if (layout === undefined) {
            layout = loss.layout;
            kept = [...loss.parts, ...(loss.extra ? [loss.extra] : []), ...loss.terms].map((t) => tf.keep(t));
          } else if (!sameLayout(layout, loss.layout)) {
            throw new MtlError(
              'INVALID_ARGUMENT',
              `loss() returned other parts or terms for the same batch and step context (${listNames(layout.keys)}, then ${listNames(loss.layout.keys)}); a gradient-level aggregator runs it once per task`,
              { place: `Trainer step ${step}` },
            );
          }
          return target(loss);
        }, this.vars),
      );
      const grads = new Map<string, Float32Array>();
      try {
        for (const v of this.vars) {
          const g = r.grads[v.name];
          if (g != null) grads.set(v.name, g.dataSync() as Float32Array);
        }
        return { grads, value: r.value.dataSync()[0]! };
      } finally {
        // A task's loss may be its one part, which the first pass keeps for the log.
        if (!kept.includes(r.value)) r.value.dispose();
        tf.dispose(r.grads);
      }
    };
    try {
      try {
        // The first pass learns the step's tasks; it differentiates the first task's loss.
        let tasks: string[] = [];
        for (let k = 0; k === 0 || k < tasks.length; k++) {
          const r = pass((loss) => {
            tasks = loss.layout.tasks;
            if (tasks.length === 0) return this.restObjective(loss);
            return taskLoss(loss, tasks[k]!);
          });
          if (tasks.length === 0) rest = r;
          else {
            passes.push(r.grads);
            lossValues.push(r.value);
          }
        }
        const lay = layout!;
        if (rest === undefined && (lay.hasExtra || lay.termNames.length > 0)) {
          rest = pass((loss) => this.restObjective(loss));
        } else if (rest === undefined && this.cfg.l2 > 0) {
          rest = this.l2Pass();
        }
      } catch (e) {
        throw noConnection(e, step);
      }
      stats = new Float32Array(kept.length + 1);
      kept.forEach((t, i) => {
        stats[i] = t.dataSync()[0]!;
      });
    } finally {
      tf.dispose(kept);
    }
    const lay = layout!;
    // The objective logged on this level: the tasks' losses and the terms of no task, unweighted.
    let total = rest?.value ?? 0;
    for (const v of lossValues) total += v;
    total = Math.fround(total);
    stats[lay.totalIndex] = total;
    // A non-finite loss stops the run before the aggregator sees it (its state stays as it was).
    this.checkFinite(lay, stats, total, 0, lr, () => undefined);
    const actx = this.aggregatorContext(step, lay.tasks);
    const update = new Map<string, Float32Array>();
    if (lay.tasks.length > 0) {
      const { shared, cols } = groups;
      const rows = lay.tasks.length;
      const jacobian = new Float64Array(rows * cols);
      let anyShared = false;
      lay.tasks.forEach((_, k) => {
        let offset = k * cols;
        for (const v of shared) {
          const g = passes[k]!.get(v.name);
          if (g !== undefined) {
            jacobian.set(g, offset);
            anyShared = true;
          }
          offset += v.size;
        }
      });
      if (anyShared) {
        const direction = this.aggregator.aggregate!(
          { rows, cols, data: jacobian },
          Float64Array.from(lossValues),
          actx,
        );
        if (!(direction instanceof Float64Array) || direction.length !== cols) {
          throw new MtlError(
            'SHAPE_MISMATCH',
            `aggregate() must return a Float64Array of ${cols} values (the shared parameters), got ${describeValue(direction)}`,
            { place: `aggregator ${this.aggregator.name}` },
          );
        }
        let offset = 0;
        for (const v of shared) {
          if (passes.some((p) => p.has(v.name))) {
            update.set(v.name, Float32Array.from(direction.subarray(offset, offset + v.size)));
          }
          offset += v.size;
        }
      }
      lay.tasks.forEach((task, k) => {
        for (const v of groups.owned.get(task) ?? []) {
          const g = passes[k]!.get(v.name);
          if (g !== undefined) update.set(v.name, g);
        }
      });
    }
    await this.applyGradientUpdate(update, rest, lay, stats, total, lr, actx, lossValues);
  }

  /** The end of a gradient-level step: adds the terms of no task, clips, updates, observes, logs. */
  private async applyGradientUpdate(
    update: Map<string, Float32Array>,
    rest: { grads: Map<string, Float32Array> } | undefined,
    lay: StepLayout,
    stats: Float32Array,
    total: number,
    lr: number,
    actx: AggregatorContext,
    lossValues: readonly number[],
  ): Promise<void> {
    if (rest !== undefined) {
      for (const [name, g] of rest.grads) {
        const u = update.get(name);
        if (u === undefined) update.set(name, g);
        else for (let i = 0; i < u.length; i++) u[i] = u[i]! + g[i]!;
      }
    }
    const norm = Math.fround(Math.sqrt(this.optimizer.sumOfSquares(update.values())));
    this.checkFinite(lay, stats, total, norm, lr, (name) => update.get(name));
    if (this.cfg.accumulate > 1) {
      await this.accumulateStep(update, lay, stats, total, lr, {
        actx,
        losses: Float64Array.from(lossValues),
      });
      return;
    }
    const max = this.cfg.gradClipNorm;
    const scale = max !== undefined && norm > max ? max / norm : 1;
    this.optimizer.applyGradientValues(this.optVars, update, lr, scale);
    this.observe(actx, Float64Array.from(lossValues));
    await this.finishStep(lay, stats, total, lr);
  }

  /**
   * Gradient accumulation: adds a batch's gradients (checked finite) to the window, logs its
   * losses, and applies the window's mean when it has `accumulate` batches or the epoch's batches
   * are done.
   */
  private async accumulateStep(
    grads: ReadonlyMap<string, ArrayLike<number>>,
    lay: StepLayout,
    values: Float32Array,
    total: number,
    lr: number,
    obs: { actx: AggregatorContext; losses: Float64Array } | undefined,
  ): Promise<void> {
    this.window ??= { sums: new Map(), count: 0, last: undefined };
    const w = this.window;
    for (const [name, g] of grads) {
      let sum = w.sums.get(name);
      if (sum === undefined) {
        sum = new Float64Array(g.length);
        w.sums.set(name, sum);
      }
      for (let i = 0; i < sum.length; i++) sum[i]! += g[i]!;
    }
    w.count += 1;
    w.last = { lay, values, total, lr, obs };
    this.recordBatch(lay, values, total);
    if (w.count >= this.cfg.accumulate || this.batchInEpoch >= this.batchesPerEpoch) await this.applyWindow();
  }

  /**
   * The update of an accumulation window: the mean of its batches' gradients (a variable without a
   * gradient in a batch counts 0 there), clipped, applied with the step's rate; the aggregator
   * observes the last batch's losses.
   */
  private async applyWindow(): Promise<void> {
    const w = this.window!;
    this.window = undefined;
    const mean = new Map<string, Float32Array>();
    for (const [name, sum] of w.sums)
      mean.set(
        name,
        Float32Array.from(sum, (x) => x / w.count),
      );
    const { lay, values, total, lr, obs } = w.last!;
    const norm = Math.fround(Math.sqrt(this.optimizer.sumOfSquares(mean.values())));
    this.checkFinite(lay, values, total, norm, lr, (name) => mean.get(name));
    const max = this.cfg.gradClipNorm;
    const scale = max !== undefined && norm > max ? max / norm : 1;
    this.optimizer.applyGradientValues(this.optVars, mean, lr, scale);
    if (obs !== undefined) this.observe(obs.actx, obs.losses);
    await this.completeStep(lay, values, total, lr);
  }

  /**
   * A gradient-level step on the shared representation (`gradientOf: 'representation'`, e.g.
   * MGDA-UB). Inside one gradient tape over the model's variables: one forward of the trunk
   * (`trainable.representation`) gives R; for each task, its loss through the heads on a constant
   * copy of R is differentiated w.r.t. that copy (a row of the Jacobian: rows = tasks, columns =
   * R flattened) and the task's own variables (heads only: cheap); the aggregator combines the rows
   * into a direction d; the tape's objective `Σ R·d` (d a constant) backpropagates d through the
   * trunk once, giving the shared variables' update. Task-owned variables get their own task's
   * gradient; extra, terms and L2 their own pass, as on the parameter level.
   */
  private async representationStep(batch: B, ctx: StepContext, lr: number): Promise<void> {
    const step = this.step;
    const groups = this.groups!;
    const agg = this.aggregator;
    const place = `Trainer step ${step}`;
    let layout: StepLayout | undefined;
    let stats: Float32Array | undefined;
    let actx: AggregatorContext | undefined;
    const lossValues: number[] = [];
    const update = new Map<string, Float32Array>();
    const ownerOf = new Map<string, string>();
    for (const [task, vs] of groups.owned) for (const v of vs) ownerOf.set(v.name, task);
    const sharedNames = new Set(groups.shared.map((v) => v.name));
    try {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const rs = this.trainable.representation!(batch, ctx);
          const R = checkRepresentation(rs, step);
          // Constants of R's values: the heads' gradients stop at them (tfjs has no stopGradient).
          const stand = R.map((r) => tf.tensor(r.dataSync(), r.shape, 'float32'));
          const sizes = R.map((r) => r.size);
          const cols = sizes.reduce((n, x) => n + x, 0);
          const xs: tf.Tensor[] = [...stand, ...this.vars];
          let tasks: string[] = [];
          // The Jacobian, rows = tasks (allocated once the first pass has told the step's tasks).
          let data = new Float64Array(0);
          for (let k = 0; k === 0 || k < tasks.length; k++) {
            const r = tf.engine().gradients(
              () => {
                const loss = readLoss(rs.heads(stand), step);
                if (layout === undefined) {
                  layout = loss.layout;
                  tasks = layout.tasks;
                  const t = [...loss.parts, ...(loss.extra ? [loss.extra] : []), ...loss.terms];
                  stats = new Float32Array(t.length + 1);
                  t.forEach((x, i) => {
                    stats![i] = x.dataSync()[0]!;
                  });
                } else if (!sameLayout(layout, loss.layout)) {
                  throw new MtlError(
                    'INVALID_ARGUMENT',
                    `heads() returned other parts or terms for the same representation (${listNames(layout.keys)}, then ${listNames(loss.layout.keys)})`,
                    { place },
                  );
                }
                // No task in the step (terms only): nothing to aggregate, the rest pass does it all.
                return tasks.length === 0 ? tf.scalar(0) : taskLoss(loss, tasks[k]!);
              },
              xs,
              undefined,
              true,
            );
            if (tasks.length === 0) break;
            const task = tasks[k]!;
            lossValues.push(r.value.dataSync()[0]!);
            if (k === 0) data = new Float64Array(tasks.length * cols);
            let offset = k * cols;
            stand.forEach((_, i) => {
              const g = r.grads[i];
              if (g != null) data.set(g.dataSync(), offset);
              offset += sizes[i]!;
            });
            this.vars.forEach((v, i) => {
              const g = r.grads[stand.length + i];
              if (g == null) return;
              if (sharedNames.has(v.name)) {
                throw new MtlError(
                  'INVALID_ARGUMENT',
                  `shared variable "${v.name}" is used by task ${task}'s heads, after the representation; every shared variable must compute the representation (or use gradientOf: parameters)`,
                  { place: `variable ${v.name}` },
                );
              }
              if (ownerOf.get(v.name) === task) update.set(v.name, Float32Array.from(g.dataSync()));
            });
          }
          const lay = layout!;
          // A non-finite loss stops the run before the aggregator sees it (its state stays as it was).
          let partial = 0;
          for (let i = 0; i < lay.totalIndex; i++) partial += stats![i]!;
          this.checkFinite(lay, stats!, partial, 0, lr, () => undefined);
          if (tasks.length === 0) return tf.scalar(0);
          actx = this.aggregatorContext(step, lay.tasks);
          const direction = agg.aggregate!(
            { rows: tasks.length, cols, data },
            Float64Array.from(lossValues),
            actx,
          );
          if (!(direction instanceof Float64Array) || direction.length !== cols) {
            throw new MtlError(
              'SHAPE_MISMATCH',
              `aggregate() must return a Float64Array of ${cols} values (the shared representation), got ${describeValue(direction)}`,
              { place: `aggregator ${agg.name}` },
            );
          }
          let offset = 0;
          const products = R.map((rep, i) => {
            const d = tf.tensor(Float32Array.from(direction.subarray(offset, offset + sizes[i]!)), rep.shape);
            offset += sizes[i]!;
            return tf.sum(tf.mul(rep, d)) as tf.Scalar;
          });
          return sumScalars(products);
        }, this.vars);
        for (const v of this.vars) {
          const g = grads[v.name];
          if (g == null) continue;
          const owner = ownerOf.get(v.name);
          if (owner !== undefined) {
            throw new MtlError(
              'INVALID_ARGUMENT',
              `variable "${v.name}" is owned by task ${owner} but computes the shared representation; a task-owned variable must be used after it (in the heads)`,
              { place: `variable ${v.name}` },
            );
          }
          update.set(v.name, Float32Array.from(g.dataSync()));
        }
      });
    } catch (e) {
      throw noConnection(e, step);
    }
    const lay = layout!;
    let rest: { grads: Map<string, Float32Array>; value: number } | undefined;
    try {
      if (lay.hasExtra || lay.termNames.length > 0) {
        rest = this.restPass(batch, ctx);
      } else if (this.cfg.l2 > 0) {
        rest = this.l2Pass();
      }
    } catch (e) {
      throw noConnection(e, step);
    }
    const s = stats!;
    let total = rest?.value ?? 0;
    for (const v of lossValues) total += v;
    total = Math.fround(total);
    s[lay.totalIndex] = total;
    this.checkFinite(lay, s, total, 0, lr, () => undefined);
    await this.applyGradientUpdate(
      update,
      rest,
      lay,
      s,
      total,
      lr,
      actx ?? this.aggregatorContext(step, lay.tasks),
      lossValues,
    );
  }

  /** Extra, the named terms and L2 of one full `loss()` call: their gradient and value. */
  private restPass(batch: B, ctx: StepContext): { grads: Map<string, Float32Array>; value: number } {
    const r = tf.tidy(() =>
      tf.variableGrads(
        () => this.restObjective(readLoss(this.trainable.loss(batch, ctx), ctx.step)),
        this.vars,
      ),
    );
    try {
      const grads = new Map<string, Float32Array>();
      for (const v of this.vars) {
        const g = r.grads[v.name];
        if (g != null) grads.set(v.name, g.dataSync() as Float32Array);
      }
      return { grads, value: r.value.dataSync()[0]! };
    } finally {
      r.value.dispose();
      tf.dispose(r.grads);
    }
  }

  /** Only the L2 term (no loss call): its gradient and value. */
  private l2Pass(): { grads: Map<string, Float32Array>; value: number } {
    const r = tf.tidy(() => tf.variableGrads(() => this.l2Term()!, this.vars));
    try {
      const grads = new Map<string, Float32Array>();
      for (const v of this.vars) grads.set(v.name, r.grads[v.name]!.dataSync() as Float32Array);
      return { grads, value: r.value.dataSync()[0]! };
    } finally {
      r.value.dispose();
      tf.dispose(r.grads);
    }
  }

  private aggregatorContext(step: number, tasks: readonly string[]): AggregatorContext {
    return { step, epoch: this.epoch, seed: this.rng.childSeed(`aggregate-${step}`), tasks };
  }

  /** After an update: the aggregator sees the step's task losses; its weights are kept for the log. */
  private observe(actx: AggregatorContext, losses: Float64Array): void {
    const agg = this.aggregator;
    agg.observe?.(losses, actx);
    const w = agg.lastWeights?.();
    if (w === undefined) return;
    actx.tasks.forEach((task, i) => {
      const value = w[i];
      if (value !== undefined) this.taskWeightLog[task] = value;
    });
  }

  /** Counters, loss sums and the step-end callbacks of a step whose update is applied. */
  private async finishStep(lay: StepLayout, values: Float32Array, total: number, lr: number): Promise<void> {
    this.recordBatch(lay, values, total);
    await this.completeStep(lay, values, total, lr);
  }

  /** A trained batch's losses into the epoch's sums; the batch counter. */
  private recordBatch(lay: StepLayout, values: Float32Array, total: number): void {
    const { keys, scales } = lay;
    const termValues: Record<string, number> = {};
    let extra: number | undefined = lay.hasExtra ? values[keys.length]! : undefined;
    lay.termNames.forEach((name, i) => {
      const v = values[lay.termStart + i]!;
      termValues[name] = v;
      extra = (extra ?? 0) + v;
    });
    this.sums.add(
      keys,
      scales.some((c) => c !== 1) ? keys.map((_, i) => values[i]! / scales[i]!) : values,
      extra,
      total,
      lay.termNames.length > 0 ? termValues : undefined,
    );
    for (const k of keys) this.seenTasks.add(taskOfPart(k));
    this.batchInEpoch += 1;
  }

  /** The step counter and the step-end callbacks of an applied update (its last batch's numbers). */
  private async completeStep(
    lay: StepLayout,
    values: Float32Array,
    total: number,
    lr: number,
  ): Promise<void> {
    const { keys } = lay;
    this.lr = lr;
    this.step += 1;
    if (this.callbacks.some((c) => c.onStepEnd)) {
      const parts: Record<string, number> = {};
      keys.forEach((k, i) => {
        parts[k] = values[i]!;
      });
      const info = {
        step: this.step,
        // Epochs completed, this step's epoch included once its last batch is done.
        epoch: this.epoch + (this.batchInEpoch >= this.batchesPerEpoch ? 1 : 0),
        batchInEpoch: this.batchInEpoch,
        lr,
        loss: total,
        parts,
      };
      for (const cb of this.callbacks) await cb.onStepEnd?.(info);
    }
  }

  /**
   * The scalar a loss-level step minimises: the aggregated task losses (weightedSum: `Σ w_task·part`
   * part by part, today's sum exactly), plus extra, the named terms and L2, as one sum.
   */
  private lossObjective(loss: ParsedLoss, actx: AggregatorContext | undefined): tf.Scalar {
    const { keys, tasks } = loss.layout;
    const terms: tf.Scalar[] = [];
    if (this.fused !== undefined) {
      keys.forEach((key, i) => {
        const w = this.fused![taskOfPart(key)] ?? 1;
        const part = loss.parts[i]!;
        terms.push(w === 1 ? part : tf.mul(part, w));
      });
    } else if (tasks.length > 0) {
      const combined = this.aggregator.combine!(
        tasks.map((t) => taskLoss(loss, t)),
        actx!,
      );
      if (!(combined instanceof tf.Tensor) || combined.rank !== 0) {
        throw new MtlError('SHAPE_MISMATCH', 'combine() must return a scalar tensor', {
          place: `aggregator ${this.aggregator.name}`,
        });
      }
      terms.push(combined);
    }
    if (loss.extra !== undefined) terms.push(loss.extra);
    terms.push(...loss.terms);
    const l2 = this.l2Term();
    if (l2 !== undefined) terms.push(l2);
    // Many terms (a part per task) are summed as one vector: tf.addN would clone every term for
    // its gradient and clone the incoming gradient once per term on the way back.
    return sumScalars(terms);
  }

  /** Extra, the named terms and L2: the objective of no task (gradient level). */
  private restObjective(loss: ParsedLoss): tf.Scalar {
    const terms = [...(loss.extra ? [loss.extra] : []), ...loss.terms];
    const l2 = this.l2Term();
    if (l2 !== undefined) terms.push(l2);
    return sumScalars(terms);
  }

  /** `0.5·l2·Σ‖w‖²` over the model's variables, when l2 > 0. */
  private l2Term(): tf.Scalar | undefined {
    if (!(this.cfg.l2 > 0)) return undefined;
    const squares = this.vars.map((v) => tf.sum(tf.square(v)));
    const sum = squares.length === 1 ? squares[0]! : tf.addN(squares);
    return tf.mul(sum, 0.5 * this.cfg.l2) as tf.Scalar;
  }

  private checkFinite(
    lay: StepLayout,
    values: Float32Array,
    total: number,
    norm: number,
    lr: number,
    gradientOf: (variable: string) => ArrayLike<number> | undefined,
  ): void {
    if (Number.isFinite(total) && Number.isFinite(norm)) return;
    const { keys, hasExtra } = lay;
    const where = `step ${this.step} (epoch ${this.epoch}, learning rate ${lr})`;
    const kept = this.written.last ? ` the last checkpoint ${this.written.last} is kept` : '';
    const details = { step: this.step, epoch: this.epoch, lr };
    const fail = (what: string, value: number, place: string, extra: Record<string, unknown> = {}) =>
      new MtlError('NON_FINITE_LOSS', `${what} is ${value} at ${where}; training stopped.${kept}`, {
        place,
        details: { ...details, ...extra, value },
      });
    for (let i = 0; i < keys.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) {
        const task = taskOfPart(keys[i]!);
        throw fail(`loss part "${keys[i]}"`, v, `task ${task}`, { part: keys[i], task });
      }
    }
    if (hasExtra && !Number.isFinite(values[keys.length]!)) {
      throw fail('the extra loss term', values[keys.length]!, 'extra loss term', { part: 'extra' });
    }
    for (let i = 0; i < lay.termNames.length; i++) {
      const v = values[lay.termStart + i]!;
      const name = lay.termNames[i]!;
      if (!Number.isFinite(v)) throw fail(`the loss term "${name}"`, v, `loss term ${name}`, { part: name });
    }
    if (!Number.isFinite(total))
      throw fail('the total loss (with L2)', total, 'total loss', { part: 'total' });
    // The loss is finite but a gradient is not: name the first variable affected.
    let variable = '(unknown)';
    for (const v of this.optVars) {
      const g = gradientOf(v.name);
      if (g !== undefined && Array.prototype.some.call(g, (x: number) => !Number.isFinite(x))) {
        variable = v.name;
        break;
      }
    }
    throw fail(`the gradient of variable "${variable}"`, norm, `variable ${variable}`, { variable });
  }

  /** Logs, evaluates and checkpoints as due after a step; returns why training stops, if it does. */
  private async afterStep(epochEnd: boolean): Promise<StopReason | undefined> {
    const cfg = this.cfg;
    const completed = this.step >= this.totalSteps;
    let evalDue =
      cfg.evalUnit === 'step'
        ? this.step % cfg.evalEvery === 0
        : epochEnd && (this.epoch + 1) % cfg.evalEvery === 0;
    if (completed && this.lastEvalStep !== this.step) evalDue = true;
    let stop: StopReason | undefined = completed ? 'completed' : undefined;
    if (!evalDue && !epochEnd) {
      const requested = this.stopRequested();
      if (requested !== undefined) {
        await this.saveCheckpoints(false);
        return requested;
      }
      return stop;
    }
    const metrics = this.sums.metrics((task) => cfg.taskWeights[task] ?? 1);
    for (const [task, w] of Object.entries(this.taskWeightLog)) {
      metrics[scoreKey(task, ALL_DATASET, 'train', 'weight')] = w;
    }
    metrics[modelScoreKey('train', 'lr')] = this.lr;
    // Epochs completed at this record: the epoch it closes counts.
    const epoch = epochEnd ? this.epoch + 1 : this.epoch;
    let scores: Record<string, number> = {};
    if (evalDue && this.evaluate) {
      scores = await this.evaluate({ step: this.step, epoch });
      for (const [k, v] of Object.entries(scores ?? {})) {
        if (typeof v !== 'number') {
          throw new MtlError('INVALID_ARGUMENT', `evaluate() returned a non-number for "${k}"`, {
            place: 'Trainer evaluate',
          });
        }
      }
      Object.assign(metrics, scores);
    }
    const record: HistoryRecord = { step: this.step, epoch, metrics };
    this.history.push(record);
    let improved = false;
    if (evalDue) {
      this.lastEvalStep = this.step;
      this.checkMetricsKnown(metrics);
      if (this.best) improved = this.best.update(metrics[this.best.metric]!, this.step, epoch);
      if (this.early) {
        this.early.update(metrics[this.early.metric]!, this.step, epoch);
        if (this.early.state.bad >= cfg.earlyStopping!.patience) stop ??= 'early_stopping';
      }
      this.schedule.observe(metrics);
      if (improved && this.restoreBest) this.bestWeights = await readVariables(this.vars);
    }
    if (epochEnd) {
      this.checkTaskWeights();
      this.sums.reset();
      this.epoch += 1;
      this.batchInEpoch = 0;
    }
    for (const cb of this.callbacks) await cb.onLog?.(record);
    if (epochEnd) for (const cb of this.callbacks) await cb.onEpochEnd?.(record);
    if (evalDue) for (const cb of this.callbacks) await cb.onEvaluate?.(record, scores);
    stop ??= this.stopRequested();
    if (evalDue || stop !== undefined) await this.saveCheckpoints(improved);
    return stop;
  }

  private checkMetricsKnown(metrics: Record<string, number>): void {
    const watched: [string | undefined, string, string][] = [
      [this.best?.metric, 'training.checkpointMetric', 'checkpoint metric'],
      [this.early?.metric, 'training.earlyStopping.metric', 'early-stopping metric'],
      [this.schedule.metric, 'training.lrSchedule.metric', 'plateau metric'],
    ];
    for (const [metric, place, what] of watched) {
      if (metric !== undefined && !(metric in metrics)) {
        const available = Object.keys(metrics).sort();
        throw new MtlError(
          'CHECKPOINT_METRIC_UNKNOWN',
          `${what} "${metric}" is not produced at evaluation (step ${this.step}); available keys: ${listNames(available)}`,
          { place, details: { metric, available } },
        );
      }
    }
  }

  private checkTaskWeights(): void {
    if (this.taskWeightsChecked) return;
    this.taskWeightsChecked = true;
    for (const task of Object.keys(this.cfg.taskWeights)) {
      if (!this.seenTasks.has(task)) {
        throw new MtlError(
          'UNKNOWN_TASK',
          `taskWeights names task "${task}", but no loss part of the first epoch belongs to it (tasks seen: ${listNames(this.seenTasks)})`,
          { place: `training.taskWeights.${task}` },
        );
      }
    }
  }

  private async saveCheckpoints(improved: boolean): Promise<void> {
    const dir = this.checkpointDir;
    if (dir === undefined) return;
    // A folder path or a URL (memory://, indexeddb://): the saved-format router picks the handler.
    const last = joinUrl(dir, CHECKPOINT_FILES.last);
    const best = joinUrl(dir, CHECKPOINT_FILES.best);
    const checkpoint: Checkpoint = {
      weights: await readVariables(this.vars),
      optimizer: renameOptimizerVariables(
        await this.optimizer.getState(),
        new Map(this.aggVars.map((v, i) => [v.name, `${AGGREGATOR_VARIABLE}${i}`])),
      ),
      trainer: { ...this.state(), ...(await this.aggregatorState()) },
    };
    if (this.restoreBest && this.bestWeights) checkpoint.bestWeights = this.bestWeights;
    // Packed (and checksummed) once for both files.
    const artifacts = checkpointArtifacts(checkpoint);
    const info = { step: this.step, epoch: this.epoch };
    if (improved) {
      await saveArtifacts(best, artifacts);
      this.written.best = best;
      for (const cb of this.callbacks) await cb.onCheckpoint?.({ kind: 'best', path: best, ...info });
    }
    await saveArtifacts(last, artifacts);
    this.written.last = last;
    for (const cb of this.callbacks) await cb.onCheckpoint?.({ kind: 'last', path: last, ...info });
  }

  /**
   * The aggregator's part of the trainer state. Its variables are a handful of numbers (task
   * log-variances), kept in the JSON header: float32 values survive JSON exactly, and the tensor
   * manifest stays the model's.
   */
  private async aggregatorState(): Promise<Pick<TrainerState, 'aggregator'>> {
    const agg = this.aggregator;
    if (
      this.aggVars.length === 0 &&
      agg.getState === undefined &&
      Object.keys(this.taskWeightLog).length === 0
    ) {
      return {};
    }
    const variables: SavedVariable[] = [];
    // Saved by position: a method's variables get tfjs's automatic names, which depend on how many
    // variables the process made before, so a resumed process would not find them by name.
    (await readVariables(this.aggVars)).forEach((v, i) => {
      variables.push({ name: `${AGGREGATOR_VARIABLE}${i}`, shape: v.shape, values: Array.from(v.values) });
    });
    return {
      aggregator: {
        name: agg.name,
        ...(agg.getState ? { state: agg.getState() } : {}),
        ...(variables.length > 0 ? { variables } : {}),
        ...(Object.keys(this.taskWeightLog).length > 0 ? { weights: { ...this.taskWeightLog } } : {}),
      },
    };
  }

  private state(): TrainerState {
    return {
      config: this.cfg,
      step: this.step,
      epoch: this.epoch,
      batchInEpoch: this.batchInEpoch,
      lr: this.lr,
      epochLosses: this.sums.getState(),
      schedule: this.schedule.getState(),
      rng: this.rng.getState(),
      best: this.best?.snapshot() ?? null,
      earlyStopping: this.early?.snapshot() ?? null,
      lastEvalStep: this.lastEvalStep,
      history: this.history,
      seenTasks: [...this.seenTasks],
      taskWeightsChecked: this.taskWeightsChecked,
    };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/** An open gradient-accumulation window (see `TrainerConfig.accumulate`). */
interface AccumulationWindow {
  /** Float64 sums of the batches' gradients, by variable name. */
  sums: Map<string, Float64Array>;
  count: number;
  /** The last batch's numbers, for the step's log, guard and observe. */
  last:
    | {
        lay: StepLayout;
        values: Float32Array;
        total: number;
        lr: number;
        obs: { actx: AggregatorContext; losses: Float64Array } | undefined;
      }
    | undefined;
}

/** Where a step's read-back values sit: [parts..., extra?, terms..., total]. */
interface StepLayout {
  /** Loss part keys, in the order the trainable returned them. */
  keys: string[];
  scales: number[];
  hasExtra: boolean;
  termNames: string[];
  termStart: number;
  totalIndex: number;
  /** Tasks with a part in this step, sorted by name: the aggregator's order of losses and rows. */
  tasks: string[];
  /** For each task of `tasks`, the indices of its parts in `keys`. */
  partsOf: number[][];
}

interface ParsedLoss {
  layout: StepLayout;
  parts: tf.Scalar[];
  extra: tf.Scalar | undefined;
  terms: tf.Scalar[];
}

/** Names a term may not take: the model-level keys the Trainer logs itself. */
const RESERVED_TERMS = new Set(['loss', 'extra', 'objective', 'lr']);

/** Checks what `loss()` returned and lays it out. */
function readLoss(loss: LossOutput, step: number): ParsedLoss {
  const parts = loss?.parts;
  if (parts === null || typeof parts !== 'object') {
    throw new MtlError(
      'INVALID_ARGUMENT',
      'loss() must return { parts: { "task/dataset": scalar }, extra? }',
      {
        place: `Trainer step ${step}`,
      },
    );
  }
  const keys = Object.keys(parts);
  const termsIn = loss.terms;
  if (termsIn !== undefined && (termsIn === null || typeof termsIn !== 'object')) {
    throw new MtlError('INVALID_ARGUMENT', 'loss().terms must be an object of named scalar tensors', {
      place: `Trainer step ${step}`,
    });
  }
  const termNames = termsIn === undefined ? [] : Object.keys(termsIn);
  if (keys.length === 0 && loss.extra === undefined && termNames.length === 0) {
    throw new MtlError('INVALID_ARGUMENT', 'loss() returned no loss part and no extra term', {
      place: `Trainer step ${step}`,
    });
  }
  const scales = keys.map((key) => {
    const c = loss.scale?.[key] ?? 1;
    if (!(c > 0) || !Number.isFinite(c)) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `the scale of loss part "${key}" must be a positive number, got ${c}`,
        {
          place: `task ${taskOfPart(key)}`,
        },
      );
    }
    return c;
  });
  const partTensors = keys.map((key) => {
    const part = parts[key]!;
    if (!(part instanceof tf.Tensor) || part.rank !== 0) {
      throw new MtlError('SHAPE_MISMATCH', `loss part "${key}" must be a scalar tensor`, {
        place: `task ${taskOfPart(key)}`,
      });
    }
    return part as tf.Scalar;
  });
  if (loss.extra !== undefined && (!(loss.extra instanceof tf.Tensor) || loss.extra.rank !== 0)) {
    throw new MtlError('SHAPE_MISMATCH', 'the extra loss term must be a scalar tensor', {
      place: `Trainer step ${step}`,
    });
  }
  const terms = termNames.map((name) => {
    if (name === '' || name.includes('/') || RESERVED_TERMS.has(name)) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `a loss term cannot be named "${name}" (it is logged as model/all/train/<name>: no "/", not loss, extra, objective or lr)`,
        { place: `loss term ${name}` },
      );
    }
    const t = termsIn![name];
    if (!(t instanceof tf.Tensor) || t.rank !== 0) {
      throw new MtlError('SHAPE_MISMATCH', `loss term "${name}" must be a scalar tensor`, {
        place: `loss term ${name}`,
      });
    }
    return t as tf.Scalar;
  });
  const byTask = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const task = taskOfPart(key);
    const list = byTask.get(task);
    if (list === undefined) byTask.set(task, [i]);
    else list.push(i);
  });
  const tasks = [...byTask.keys()].sort();
  const hasExtra = loss.extra !== undefined;
  const termStart = keys.length + (hasExtra ? 1 : 0);
  return {
    layout: {
      keys,
      scales,
      hasExtra,
      termNames,
      termStart,
      totalIndex: termStart + termNames.length,
      tasks,
      partsOf: tasks.map((t) => byTask.get(t)!),
    },
    parts: partTensors,
    extra: loss.extra,
    terms,
  };
}

function sameLayout(a: StepLayout, b: StepLayout): boolean {
  const same = (x: readonly string[], y: readonly string[]) =>
    x.length === y.length && x.every((k, i) => k === y[i]);
  return same(a.keys, b.keys) && same(a.termNames, b.termNames) && a.hasExtra === b.hasExtra;
}

/** A task's loss: the sum of its parts (one per dataset), in the trainable's key order. */
function taskLoss(loss: ParsedLoss, task: string): tf.Scalar {
  const k = loss.layout.tasks.indexOf(task);
  return sumScalars(loss.layout.partsOf[k]!.map((i) => loss.parts[i]!));
}

/** The tasks' losses on the host (float64 sums of their parts' read-back values). */
function taskLossValues(lay: StepLayout, values: ArrayLike<number>): Float64Array {
  return Float64Array.from(lay.partsOf, (idx) => idx.reduce((s, i) => s + values[i]!, 0));
}

/** tfjs's error for a loss that uses no variable, as an MtlError; anything else unchanged. */
function noConnection(e: unknown, step: number): unknown {
  if (e instanceof Error && !(e instanceof MtlError) && /Cannot find a connection/.test(e.message)) {
    return new MtlError('INVALID_ARGUMENT', 'the loss depends on none of the trainable variables', {
      place: `Trainer step ${step}`,
      cause: e,
    });
  }
  return e;
}

function describeValue(v: unknown): string {
  if (v instanceof Float64Array || Array.isArray(v)) return `${v.constructor.name} of ${v.length}`;
  return v === null ? 'null' : typeof v;
}

/** Shared variables (in the trainable's order) and each task's own, for the gradient level. */
interface VariableGroups {
  shared: tf.Variable[];
  cols: number;
  owned: Map<string, tf.Variable[]>;
}

/** Reads `parameterGroups()` (every variable in exactly one group); without it, all are shared. */
function variableGroups(vars: readonly tf.Variable[], groups: ParameterGroup[] | undefined): VariableGroups {
  const place = 'Trainable.parameterGroups';
  const ownerOf = new Map<string, string | null>();
  if (groups !== undefined) {
    if (!Array.isArray(groups)) {
      throw new MtlError('INVALID_ARGUMENT', 'parameterGroups() must return an array', { place });
    }
    const known = new Set(vars.map((v) => v.name));
    for (const g of groups) {
      if (!Array.isArray(g?.tasks) || g.tasks.length === 0 || !Array.isArray(g.variables)) {
        throw new MtlError(
          'INVALID_ARGUMENT',
          `parameter group "${g?.name}" must name its tasks and variables`,
          {
            place: `${place} ${g?.name}`,
          },
        );
      }
      for (const name of g.variables) {
        if (!known.has(name)) {
          throw new MtlError(
            'UNKNOWN_KEY',
            `parameter group "${g.name}" names variable "${name}", which is not a trainable variable`,
            { place: `${place} ${g.name}` },
          );
        }
        if (ownerOf.has(name)) {
          throw new MtlError('DUPLICATE_NAME', `variable "${name}" is in more than one parameter group`, {
            place: `${place} ${g.name}`,
          });
        }
        ownerOf.set(name, g.tasks.length === 1 ? g.tasks[0]! : null);
      }
    }
    const missing = vars.filter((v) => !ownerOf.has(v.name)).map((v) => v.name);
    if (missing.length > 0) {
      throw new MtlError('INVALID_ARGUMENT', `variables in no parameter group: ${listNames(missing)}`, {
        place,
      });
    }
  }
  const shared: tf.Variable[] = [];
  const owned = new Map<string, tf.Variable[]>();
  for (const v of vars) {
    const task = ownerOf.get(v.name) ?? null;
    if (task === null) shared.push(v);
    else {
      const list = owned.get(task);
      if (list === undefined) owned.set(task, [v]);
      else list.push(v);
    }
  }
  return { shared, cols: shared.reduce((n, v) => n + v.size, 0), owned };
}

/** Variable name -> learning-rate multiplier from the multipliers by parameter group. */
function lrScales(
  vars: readonly tf.Variable[],
  groups: ParameterGroup[] | undefined,
  groupLr: Readonly<Record<string, number>> | undefined,
): Map<string, number> | undefined {
  const names = Object.keys(groupLr ?? {});
  if (names.length === 0) return undefined;
  const known = new Set(vars.map((v) => v.name));
  const scales = new Map<string, number>();
  for (const name of names) {
    const m = groupLr![name]!;
    const place = `Trainer groupLr.${name}`;
    if (typeof m !== 'number' || !(m >= 0) || !Number.isFinite(m)) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `the learning-rate multiplier of "${name}" must be a number ≥ 0, got ${m}`,
        {
          place,
        },
      );
    }
    const group = groups?.find((g) => g.name === name);
    if (group === undefined) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `a learning-rate multiplier names "${name}", which is no parameter group of the trainable (groups: ${listNames((groups ?? []).map((g) => g.name))})`,
        { place },
      );
    }
    for (const v of group.variables) if (known.has(v)) scales.set(v, m);
  }
  return scales;
}

/** Name prefix of the aggregator's variables in a checkpoint: `aggregator/0`, `aggregator/1`... */
const AGGREGATOR_VARIABLE = 'aggregator/';

/** The optimizer state with the variables of `names`' keys (and their slots `<name>/<slot>`) renamed. */
function renameOptimizerVariables(state: OptimizerState, names: ReadonlyMap<string, string>): OptimizerState {
  if (names.size === 0) return state;
  const rename = (name: string) => names.get(name) ?? name;
  return {
    ...state,
    steps: Object.fromEntries(Object.entries(state.steps).map(([name, n]) => [rename(name), n])),
    slots: state.slots.map((slot) => {
      const cut = slot.name.lastIndexOf('/');
      const to = cut > 0 ? names.get(slot.name.slice(0, cut)) : undefined;
      return to === undefined ? slot : { ...slot, name: `${to}${slot.name.slice(cut)}` };
    }),
  };
}

/** The position of a saved aggregator variable, or -1 for a name of another form. */
function aggregatorVariableIndex(name: string): number {
  const m = /^aggregator\/(\d+)$/.exec(name);
  return m ? Number(m[1]) : -1;
}

/** The tensors of `representation()`, checked: a non-empty list of float32 tensors. */
function checkRepresentation(step: RepresentationStep, at: number): tf.Tensor[] {
  const place = `Trainer step ${at} representation()`;
  const R = step?.representation;
  if (!Array.isArray(R) || R.length === 0 || typeof step.heads !== 'function') {
    throw new MtlError(
      'INVALID_ARGUMENT',
      'representation() must return { representation: [tensors], heads(representation) }',
      { place },
    );
  }
  R.forEach((r, i) => {
    if (!(r instanceof tf.Tensor) || r.dtype !== 'float32') {
      throw new MtlError('INVALID_ARGUMENT', `representation[${i}] must be a float32 tensor`, { place });
    }
  });
  return R;
}

/** Checks an aggregator's shape where a wrong one would otherwise fail mid-run. */
function checkAggregator(agg: Aggregator, fused: boolean, hasRepresentation: boolean): void {
  const place = `aggregator ${String(agg?.name)}`;
  if (agg === null || typeof agg !== 'object' || typeof agg.name !== 'string') {
    throw new MtlError('INVALID_ARGUMENT', 'an aggregator must be an object with a name', {
      place: 'Trainer aggregator',
    });
  }
  if (agg.level === 'loss') {
    if (!fused && typeof agg.combine !== 'function') {
      throw new MtlError('INVALID_ARGUMENT', 'a loss-level aggregator needs combine(losses, ctx)', { place });
    }
    return;
  }
  if (agg.level !== 'gradient') {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `an aggregator's level is loss or gradient, got "${String(agg.level)}"`,
      {
        place,
      },
    );
  }
  if (typeof agg.aggregate !== 'function') {
    throw new MtlError(
      'INVALID_ARGUMENT',
      'a gradient-level aggregator needs aggregate(jacobian, losses, ctx)',
      {
        place,
      },
    );
  }
  if (agg.gradientOf === 'representation' && !hasRepresentation) {
    throw new MtlError(
      'NOT_IMPLEMENTED',
      'gradients of the shared representation are not supported by this trainable (it has no representation(batch, ctx)); use gradientOf: "parameters"',
      { place },
    );
  }
  if (
    agg.gradientOf !== undefined &&
    agg.gradientOf !== 'parameters' &&
    agg.gradientOf !== 'representation'
  ) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `gradientOf is "parameters" or "representation", got ${JSON.stringify(agg.gradientOf)}`,
      { place },
    );
  }
  if ((agg.trainableVariables?.() ?? []).length > 0) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      'a gradient-level aggregator cannot have trainable variables (they are optimised through the loss level)',
      { place },
    );
  }
}
