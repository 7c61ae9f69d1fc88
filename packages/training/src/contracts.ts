import type { RandomStream } from '@mtl/core';
import type * as tf from '@tensorflow/tfjs';

/**
 * What the Trainer tells a {@link Trainable} about the step it is computing a loss for.
 * `seed` is derived from (config seed, step) alone, so a resumed run draws the same dropout masks
 * and samples as an uninterrupted one: pass it (or seeds derived from it) to tfjs random ops.
 * @example
 * const ctx: StepContext = { step: 0, epoch: 0, seed: 123, training: true };
 * const dropped = tf.dropout(x, 0.1, undefined, ctx.seed);
 */
export interface StepContext {
  /** Optimizer steps completed before this one (0 for the first step). */
  step: number;
  /** 0-based index of the step's epoch (= epochs completed before it), the number the BatchSource received in `epoch(epoch, rng)`. */
  epoch: number;
  /** A non-negative 31-bit integer seed for this step's random ops. */
  seed: number;
  /** True while training; evaluation code of the trainable can pass false. */
  training: boolean;
}

/**
 * The loss of one batch, split by where it comes from.
 * @example
 * const out: LossOutput = { parts: { 'circle_task/circleDataset': ce }, extra: klTerm };
 */
export interface LossOutput {
  /**
   * Scalar losses keyed `task/dataset` (or just `task`), each a mean over the batch's labeled rows.
   * The Trainer multiplies each by its task's weight (`taskWeights[task]`, default 1), sums them,
   * and logs `task/dataset/train/loss` and `model/all/train/loss` (Σ weight·loss).
   */
  parts: Record<string, tf.Scalar>;
  /**
   * For a part that is not a per-example mean but `scale[key]` times one (e.g. an ELBO term summed
   * over a task's N training rows): the Trainer minimises the part as returned and logs
   * `part / scale[key]` as `task/dataset/train/loss`, on the per-example scale of an evaluation's loss.
   */
  scale?: Record<string, number>;
  /** A term of no task (regularisers, mixing KL), added to the total unweighted; logged as `model/all/train/extra`, not in `model/all/train/loss`. */
  extra?: tf.Scalar;
}

/**
 * Anything the Trainer can train: a set of named variables and a loss for a batch. `MultitaskModel`
 * (@mtl/tasks) and `VmtlModel` (@mtl/variational) implement it structurally.
 * @example
 * const w = tf.variable(tf.zeros([1]), true, 'quad/w');
 * const model: Trainable<number> = {
 *   trainableVariables: () => [w],
 *   loss: (target) => ({ parts: { quad: tf.sum(tf.square(tf.sub(w, target))) } }),
 * };
 */
export interface Trainable<B> {
  /** Unique, stable `name`s (module/param): they are the checkpoint keys. */
  trainableVariables(): tf.Variable[];
  /** Runs inside the optimizer's gradient: tf ops only, no dataSync. */
  loss(batch: B, ctx: StepContext): LossOutput;
}

/**
 * Where training batches come from. The batch order (scheduler: shuffled, sequential, round robin,
 * mixed) is chosen by whoever builds the source, e.g. `scheduleBatches(loaders, scheduler)` of
 * @mtl/data; the Trainer only iterates it. `rng` is derived from (seed, epoch) alone so that a
 * resumed run sees the same order.
 * @example
 * const source: BatchSource<number> = {
 *   batchesPerEpoch: () => 2,
 *   epoch: (_e, rng) => rng.shuffle([1, 2]),
 * };
 */
export interface BatchSource<B> {
  batchesPerEpoch(): number;
  epoch(epoch: number, rng: RandomStream): Iterable<B>;
  /** Frees a batch after its step (e.g. `disposeBatch`). */
  dispose?(batch: B): void;
}

/**
 * What an evaluation callback is told (it may ignore it).
 * @example
 * const evaluate: EvaluateFn = ({ step }: EvaluateInfo) => ({ 'model/all/valid/step': step });
 */
export interface EvaluateInfo {
  /** Optimizer steps completed. */
  step: number;
  /** Epochs completed (the epoch an evaluation closes counts; 0 inside the first epoch). */
  epoch: number;
}

/**
 * Scores the model, e.g. `() => model.score(validLoaders)`: a flat map keyed `task/dataset/split/metric`.
 * @example
 * const evaluate: EvaluateFn = () => ({ 'circle_task/circleDataset/valid/accuracy': 0.93 });
 */
export type EvaluateFn = (info: EvaluateInfo) => Promise<Record<string, number>> | Record<string, number>;
