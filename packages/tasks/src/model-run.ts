import type { BatchSource, StepBatches, Trainable } from '@mtl/core';
import type { DictDataset } from '@mtl/data';
import type { GateHistory } from './gates.js';

/** The normalised mixing matrices of a VMTL run (`alpha[i][j]`: weight of task j in task i's prior). */
export interface Mixing {
  tasks: string[];
  alpha: (number | null)[][];
  beta: (number | null)[][] | null;
}

/** Module bookkeeping of a warm start (`--from`). */
export interface WarmStart {
  reused: string[];
  new: string[];
  dropped: string[];
  reshaped: string[];
}

/**
 * What the commands need of a model, whatever its kind (multitask or VMTL): one adapter per kind
 * so train/score/compare/predict are written once.
 */
export interface RunModel {
  kind: 'multitask' | 'vmtl' | 'vae';
  trainable: Trainable<StepBatches>;
  taskNames: string[];
  /** Module (or parameter group) names, for summary.json. */
  moduleNames(): string[];
  /** The training batches (one step = one or several batches). */
  trainSource(): BatchSource<StepBatches>;
  /**
   * Runs every task that has `split` through a forward pass, its loss and its scorer on the
   * split's first batch (inference mode), so a module, head, label or metric that does not fit
   * fails before anything is written. Changes no weight and draws from no random stream. A split
   * no task has is a no-op.
   */
  checkSplit(split: string): Promise<void>;
  /**
   * Scores of every task on one split (exact name); empty when no task has that split. `step`: the
   * training step it is scored at (a VAE's β follows a schedule; default: the schedule's end).
   */
  evaluate(split: string, step?: number): Promise<Record<string, number>>;
  /** Scores of every task on every split it has (a VAE's β: the schedule's end, so `mtl score` gives the same numbers). */
  scoreAll(): Promise<Record<string, number>>;
  /** Writes the model into `dir` (model.mtl). */
  save(dir: string): Promise<void>;
  /** Loads matching weights from a previous run's model folder; new or reshaped modules keep their initialisation. */
  warmStart(dir: string): Promise<WarmStart>;
  /** Loads a run's weights exactly (every module must match). */
  load(dir: string): Promise<void>;
  /** Predictions of one task on any dataset with its input fields (labels not needed), in row order. */
  predict(task: string, dataset: DictDataset): Promise<Predictions>;
  mixing(): Mixing | null;
  /** The gate weights recorded at each evaluation of a model with gated modules (mmoe, cgc, ple, dselect_k); null without. */
  gates?(): GateHistory | null;
  /**
   * Records the gates of the model as it ends training (after the best weights are restored) for
   * `gates()`'s `final`: `step` is the step whose weights it holds.
   */
  recordFinalGates?(info: { step: number; restoredBest: boolean }): Promise<void>;
  /** VAE runs: `n` draws from the prior and their decodings (`mtl predict --sample N`). */
  sample?(task: string, n: number, seed: number): Promise<Predictions>;
  dispose(): void;
}

/** One task's predictions on a dataset, rows in dataset order. */
export interface Predictions {
  /** Class probabilities, per-label probabilities, or regression values, one row per example. */
  probs: Float32Array[];
  /** Predicted class ids (class kinds) when they apply. */
  preds?: ArrayLike<number> | ArrayLike<ArrayLike<number>>;
  /** Names of the value columns (default `prob_<c>` / `value_<c>`), e.g. a VAE's `recon_<j>`, `z_mean_<j>`. */
  columns?: string[];
}
