import {
  type BatchSource,
  joinUrl,
  type LossOutput,
  listNames,
  MtlError,
  modelScoreKey,
  RandomStream,
  type StepContext,
  saveArtifacts,
  type Trainable,
} from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import type { TrainerCallbacks } from './callbacks.js';
import {
  assignVariables,
  type Checkpoint,
  checkpointArtifacts,
  loadCheckpoint,
  type NamedArray,
  readVariables,
} from './checkpoint.js';
import { clipByGlobalNorm, globalNorm } from './clip.js';
import {
  inferMetricMode,
  parseTrainerConfig,
  type TrainerConfig,
  type TrainerConfigInput,
} from './config.js';
import type { EvaluateFn } from './contracts.js';
import { LossSums, taskOfPart } from './internal/loss-sums.js';
import { MetricTracker } from './internal/metric-tracker.js';
import { LrSchedule } from './lr-schedule.js';
import { type OptimizerUpdates, TrainerOptimizer } from './optimizer.js';
import type { HistoryRecord, TrainerState } from './trainer-state.js';

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
 * Trains any {@link Trainable} on any {@link BatchSource}: weighted sum of loss parts, optional L2,
 * gradient clipping by global norm, an optimizer and a learning-rate schedule with warmup,
 * periodic evaluation, best/last checkpoints, early stopping, exact resume, and a NaN/Inf guard.
 *
 * A step: `total = Σ taskWeights[task]·part + extra + 0.5·l2·Σ‖w‖²`; gradients of `total` by
 * `tf.variableGrads`; the losses and the gradient norm are read back every step (to log the
 * losses and stop on a non-finite value before any weight changes); clip; update with the step's rate.
 * On the cpu and wasm backends the gradients themselves are read back and the update runs on the
 * host (see {@link OptimizerUpdates}); elsewhere one read-back of [parts, extra, total, norm].
 * @example
 * const trainer = new Trainer({ epochs: 20, lr: 0.1, optimizer: { type: 'sgd' } });
 * const result = await trainer.fit(model, { train: source, evaluate: () => model.score(valid) });
 * result.history.at(-1)?.metrics['model/all/train/loss'];
 */
export class Trainer {
  readonly config: TrainerConfig;
  private stopRequested = false;

  constructor(config: TrainerConfigInput | TrainerConfig = {}) {
    this.config = parseTrainerConfig(config);
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
    options: Omit<FitOptions<B>, 'resumeFrom'> & { config?: TrainerConfigInput },
  ): Promise<FitResult> {
    const checkpoint = await loadCheckpoint(path);
    if (!checkpoint.trainer) throw noTrainerState(path);
    const { config, ...fitOptions } = options;
    const trainer = new Trainer(config ?? checkpoint.trainer.config);
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
    const run = new TrainingRun(this.config, trainable, options, (): StopReason | undefined =>
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

/** One call of fit: the state of a run and its loop. */
class TrainingRun<B> {
  private readonly vars: tf.Variable[];
  private readonly source: BatchSource<B>;
  private readonly evaluate: EvaluateFn | undefined;
  private readonly callbacks: TrainerCallbacks[];
  private readonly batchesPerEpoch: number;
  private readonly totalSteps: number;
  private rng: RandomStream;
  private readonly optimizer: TrainerOptimizer;
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
  private seenTasks = new Set<string>();
  private taskWeightsChecked = false;
  private bestWeights: NamedArray[] | undefined;

  constructor(
    private readonly cfg: TrainerConfig,
    private readonly trainable: Trainable<B>,
    options: Omit<FitOptions<B>, 'resumeFrom'>,
    /** Why the caller wants the run to end after this step, if it does. */
    private readonly stopRequested: () => StopReason | undefined,
  ) {
    this.vars = trainable.trainableVariables();
    if (this.vars.length === 0) {
      throw new MtlError('INVALID_ARGUMENT', 'the trainable has no trainable variables', {
        place: 'Trainer.fit',
      });
    }
    const seen = new Set<string>();
    for (const v of this.vars) {
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
    this.totalSteps = cfg.steps ?? cfg.epochs * bpe;
    this.rng = new RandomStream(cfg.seed);
    this.optimizer = new TrainerOptimizer(cfg.optimizer);
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
    if (checkpoint.optimizer) this.optimizer.setState(checkpoint.optimizer, this.vars, path);
    if (s.batchInEpoch > this.batchesPerEpoch) {
      throw new MtlError(
        'CHECKPOINT_MISMATCH',
        `the checkpoint is ${s.batchInEpoch} batches into epoch ${s.epoch} but the source has ${this.batchesPerEpoch} per epoch`,
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
    if (this.restoreBest && checkpoint.bestWeights) this.bestWeights = checkpoint.bestWeights;
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
    const ctx: StepContext = {
      step,
      epoch: this.epoch,
      seed: this.rng.childSeed(`step-${step}`),
      training: true,
    };
    const lr = this.schedule.lrAt(step, this.epoch);
    const host = this.optimizer.updates === 'host';
    let keys: string[] = [];
    let scales: number[] = [];
    let hasExtra = false;
    let kept: tf.Tensor[] = [];
    // Host updates read the gradients back and free them at once (on the cpu and wasm backends a
    // read is a copy, not a stall, so each tensor is read as it is rather than packed by more ops);
    // tensor updates keep them on the device and read back [losses, total, norm] in one go.
    let hostGrads: Map<string, Float32Array> | undefined;
    let out: { grads: tf.NamedTensorMap; readback: tf.Tensor | undefined };
    try {
      out = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const loss = this.trainable.loss(batch, ctx);
          const r = this.weightedTotal(loss, step);
          keys = r.keys;
          scales = r.scales;
          hasExtra = loss.extra !== undefined;
          kept = r.stats.map((t) => tf.keep(t));
          return r.total;
        }, this.vars);
        // Packed here, where no tape records the op (recorded, tf.stack clones every input). On the
        // host path a few scalars are read one by one, more in one read of their stack.
        const packed = host && kept.length <= 4 ? undefined : tf.stack(kept);
        if (host) {
          hostGrads = new Map();
          for (const v of this.vars) {
            const g = grads[v.name];
            if (g != null) hostGrads.set(v.name, g.dataSync() as Float32Array);
          }
          return { grads: {}, readback: packed };
        }
        const readback = tf.concat([packed!, tf.reshape(globalNorm(grads), [1])]);
        return { grads, readback };
      });
    } catch (e) {
      tf.dispose(kept);
      if (e instanceof Error && !(e instanceof MtlError) && /Cannot find a connection/.test(e.message)) {
        throw new MtlError('INVALID_ARGUMENT', 'the loss depends on none of the trainable variables', {
          place: `Trainer step ${step}`,
          cause: e,
        });
      }
      throw e;
    }
    let applied: tf.NamedTensorMap | undefined;
    try {
      let values: Float32Array;
      let norm: number;
      if (hostGrads !== undefined) {
        if (out.readback !== undefined) {
          values = out.readback.dataSync() as Float32Array;
        } else {
          values = new Float32Array(kept.length);
          kept.forEach((t, i) => {
            values[i] = t.dataSync()[0]!;
          });
        }
        norm = Math.fround(Math.sqrt(this.optimizer.sumOfSquares(hostGrads.values())));
      } else {
        values = await out.readback!.data<'float32'>();
        norm = values[values.length - 1]!;
      }
      const total = values[keys.length + (hasExtra ? 1 : 0)]!;
      this.checkFinite(keys, hasExtra, values, total, norm, lr, out.grads, hostGrads);
      if (hostGrads !== undefined) {
        const max = this.cfg.gradClipNorm;
        const scale = max !== undefined && norm > max ? max / norm : 1;
        this.optimizer.applyGradientValues(this.vars, hostGrads, lr, scale);
      } else {
        applied = out.grads;
        if (this.cfg.gradClipNorm !== undefined) {
          applied = clipByGlobalNorm(out.grads, this.cfg.gradClipNorm, norm).grads;
        }
        this.optimizer.applyGradients(this.vars, applied, lr);
      }
      this.sums.add(
        keys,
        scales.some((c) => c !== 1) ? keys.map((_, i) => values[i]! / scales[i]!) : values,
        hasExtra ? values[keys.length]! : undefined,
        total,
      );
      for (const k of keys) this.seenTasks.add(taskOfPart(k));
      this.lr = lr;
      this.step += 1;
      this.batchInEpoch += 1;
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
    } finally {
      if (applied !== undefined && applied !== out.grads) tf.dispose(applied);
      tf.dispose(out.grads);
      out.readback?.dispose();
      tf.dispose(kept);
    }
  }

  /** Σ w_task·part + extra + L2, and the stacked values to read back: [parts..., extra?, total]. */
  private weightedTotal(
    loss: LossOutput,
    step: number,
  ): { keys: string[]; scales: number[]; total: tf.Scalar; stats: tf.Scalar[] } {
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
    if (keys.length === 0 && loss.extra === undefined) {
      throw new MtlError('INVALID_ARGUMENT', 'loss() returned no loss part and no extra term', {
        place: `Trainer step ${step}`,
      });
    }
    const terms: tf.Scalar[] = [];
    const shown: tf.Scalar[] = [];
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
    for (const key of keys) {
      const part = parts[key]!;
      if (!(part instanceof tf.Tensor) || part.rank !== 0) {
        throw new MtlError('SHAPE_MISMATCH', `loss part "${key}" must be a scalar tensor`, {
          place: `task ${taskOfPart(key)}`,
        });
      }
      const w = this.cfg.taskWeights[taskOfPart(key)] ?? 1;
      terms.push(w === 1 ? part : tf.mul(part, w));
      shown.push(part);
    }
    if (loss.extra !== undefined) {
      if (!(loss.extra instanceof tf.Tensor) || loss.extra.rank !== 0) {
        throw new MtlError('SHAPE_MISMATCH', 'the extra loss term must be a scalar tensor', {
          place: `Trainer step ${step}`,
        });
      }
      terms.push(loss.extra);
      shown.push(loss.extra);
    }
    if (this.cfg.l2 > 0) {
      const squares = this.vars.map((v) => tf.sum(tf.square(v)));
      const sum = squares.length === 1 ? squares[0]! : tf.addN(squares);
      terms.push(tf.mul(sum, 0.5 * this.cfg.l2));
    }
    // Many terms (a part per task) are summed as one vector: tf.addN would clone every term for
    // its gradient and clone the incoming gradient once per term on the way back.
    const total = terms.length === 1 ? terms[0]! : sumScalars(terms);
    return { keys, scales, total, stats: [...shown, total] };
  }

  private checkFinite(
    keys: string[],
    hasExtra: boolean,
    values: Float32Array,
    total: number,
    norm: number,
    lr: number,
    grads: tf.NamedTensorMap,
    hostGrads: ReadonlyMap<string, Float32Array> | undefined,
  ): void {
    if (Number.isFinite(total) && Number.isFinite(norm)) return;
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
    if (!Number.isFinite(total))
      throw fail('the total loss (with L2)', total, 'total loss', { part: 'total' });
    // The loss is finite but a gradient is not: name the first variable affected.
    let variable = '(unknown)';
    for (const v of this.vars) {
      const g = hostGrads !== undefined ? hostGrads.get(v.name) : grads[v.name]?.dataSync();
      if (g?.some((x) => !Number.isFinite(x))) {
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
      optimizer: await this.optimizer.getState(),
      trainer: this.state(),
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

/**
 * `Σ terms` as one recorded op whose gradient hands `dy` to every term. tf.addN (or tf.stack) would
 * clone every term for its gradient, and tf.addN the incoming gradient once per term on the way
 * back: 2T copies for a loss of T tasks. The sum itself is tf.addN's.
 */
function sumScalars(terms: readonly tf.Scalar[]): tf.Scalar {
  const n = terms.length;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.addN(args.slice(0, n) as tf.Scalar[]) as tf.Scalar,
    // Distinct tensors, one per term: the tape may add to or free each term's gradient on its own.
    gradFunc: (dy: tf.Tensor) => tf.unstack(tf.tile(tf.reshape(dy, [1]), [n])),
  }));
  return op(...terms) as tf.Scalar;
}
