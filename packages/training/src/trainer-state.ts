import type { RandomStreamState } from '@mtl/core';
import type { MetricMode, TrainerConfig } from './config.js';
import type { LrScheduleState } from './lr-schedule.js';

/**
 * One line of the training history: the train losses of the epoch so far (`task/dataset/train/loss`
 * per part, `model/all/train/loss`, `model/all/train/objective`), `model/all/train/lr`, and at an
 * evaluation every score returned by `evaluate`. `step` counts optimizer steps completed; `epoch`
 * counts epochs completed (1 for the record closing the first epoch, 0 for one inside it).
 * @example
 * const r: HistoryRecord = { step: 25, epoch: 1, metrics: { 'model/all/train/loss': 0.41, 'model/all/train/lr': 0.01 } };
 */
export interface HistoryRecord {
  step: number;
  epoch: number;
  metrics: Record<string, number>;
}

/**
 * Best value of a watched metric and evaluations since it last improved.
 * @example
 * const s: MetricTrackerState = { metric: 'm/all/valid/loss', mode: 'min', minDelta: 0, value: 0.3, step: 40, epoch: 3, bad: 1 };
 */
export interface MetricTrackerState {
  metric: string;
  mode: MetricMode;
  minDelta: number;
  /** Best value so far (null before the first finite value). */
  value: number | null;
  step: number | null;
  epoch: number | null;
  /** Evaluations since the last improvement. */
  bad: number;
}

/**
 * Running sums of the losses of the current epoch.
 * @example
 * const s: LossSumsState = { parts: { 'a/ds': { sum: 1.5, count: 3 } }, total: { sum: 1.5, count: 3 } };
 */
export interface LossSumsState {
  parts: Record<string, { sum: number; count: number }>;
  /** The trainable's extra term (absent until a step returned one). */
  extra?: { sum: number; count: number };
  /** The step objective: weighted parts + extra + L2. */
  total: { sum: number; count: number };
  /** The trainable's named terms (`LossOutput.terms`), when a step returned any. */
  terms?: Record<string, { sum: number; count: number }>;
}

/**
 * Everything besides tensors that a resumed run needs to continue exactly where a run stopped
 * (stored as JSON in the checkpoint header).
 * @example
 * const state = (await loadCheckpoint('runs/a/checkpoints/last.ckpt')).trainer; // TrainerState | undefined
 * console.log(state?.step, state?.history.length);
 */
export interface TrainerState {
  /** The resolved configuration of the run that wrote the checkpoint. */
  config: TrainerConfig;
  /** Optimizer steps completed. */
  step: number;
  /** Epochs completed; also the 0-based index of the epoch to continue in. */
  epoch: number;
  /** Batches of `epoch` already trained (a resumed run skips them). */
  batchInEpoch: number;
  /** Learning rate of the last step taken. */
  lr: number;
  epochLosses: LossSumsState;
  schedule: LrScheduleState;
  /** The root stream (epoch orders and step seeds are derived from it by name). */
  rng: RandomStreamState;
  best: MetricTrackerState | null;
  earlyStopping: MetricTrackerState | null;
  /** Step of the last evaluation (-1: none yet). */
  lastEvalStep: number;
  history: HistoryRecord[];
  /** Tasks seen in loss parts (to check `taskWeights` names). */
  seenTasks: string[];
  taskWeightsChecked: boolean;
  /** The aggregator's name, state, learnable variables and last task weights (absent for a stateless one). */
  aggregator?: {
    name: string;
    state?: Record<string, unknown>;
    variables?: SavedVariable[];
    weights?: Record<string, number>;
  };
}

/**
 * A small float32 variable kept in the JSON trainer state (an aggregator's).
 * @example
 * const v: SavedVariable = { name: 'uncertainty/logVar', shape: [2], values: [0, 0.5] };
 */
export interface SavedVariable {
  name: string;
  shape: number[];
  values: number[];
}
