import type { FitResult } from './trainer.js';
import type { HistoryRecord } from './trainer-state.js';

/**
 * Told before the first step (also after a resume, with the resumed position).
 * @example
 * const hooks: TrainerCallbacks = { onTrainBegin: (i: TrainBeginInfo) => console.log(i.totalSteps) };
 */
export interface TrainBeginInfo {
  step: number;
  /** Epochs completed (0 at a fresh start). */
  epoch: number;
  totalSteps: number;
  batchesPerEpoch: number;
  resumed: boolean;
}

/**
 * Told after every optimizer step.
 * @example
 * const hooks: TrainerCallbacks = { onStepEnd: (s: StepEndInfo) => console.log(s.step, s.loss, s.parts) };
 */
export interface StepEndInfo {
  /** Optimizer steps completed (1 after the first step). */
  step: number;
  /** Epochs completed, counting this step's epoch once this step was its last batch. */
  epoch: number;
  /** Batches of this epoch done, this one included. */
  batchInEpoch: number;
  /** Learning rate used by this step. */
  lr: number;
  /** Total loss of the step: Σ w_task·part + extra + L2. */
  loss: number;
  /** Unweighted value of each loss part of the step. */
  parts: Record<string, number>;
}

/**
 * Told after a checkpoint file was written.
 * @example
 * const hooks: TrainerCallbacks = { onCheckpoint: (c: CheckpointInfo) => console.log(c.kind, c.path) };
 */
export interface CheckpointInfo {
  kind: 'best' | 'last';
  path: string;
  step: number;
  /** Epochs completed. */
  epoch: number;
}

/**
 * Hooks into training. Every method is optional and may return a promise (awaited). Loggers
 * ({@link consoleLogger}, {@link JsonlMetricsLogger}) are such hooks. To stop a run from a hook, call
 * `trainer.stop()`: it ends after the current step, writing `last.ckpt` when a checkpoint folder is set
 * (from outside, abort the `signal` given to `fit`).
 * @example
 * const hooks: TrainerCallbacks = {
 *   onEvaluate: (record) => console.log(record.step, record.metrics['model/all/train/loss']),
 * };
 */
export interface TrainerCallbacks {
  onTrainBegin?(info: TrainBeginInfo): void | Promise<void>;
  onStepEnd?(info: StepEndInfo): void | Promise<void>;
  /** Every history record (epoch ends and evaluations; both at once when they coincide). */
  onLog?(record: HistoryRecord): void | Promise<void>;
  /** After each epoch, with the epoch's record. */
  onEpochEnd?(record: HistoryRecord): void | Promise<void>;
  /** After each evaluation, with the full record and the scores `evaluate` returned. */
  onEvaluate?(record: HistoryRecord, scores: Record<string, number>): void | Promise<void>;
  onCheckpoint?(info: CheckpointInfo): void | Promise<void>;
  onTrainEnd?(result: FitResult): void | Promise<void>;
}
