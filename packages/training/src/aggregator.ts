import type * as tf from '@tensorflow/tfjs';

// The seam between per-task losses and the optimizer (DESIGN.md, "Aggregator"). The Trainer asks an
// Aggregator what it needs (`level`), computes that, and hands it over; every loss-weighting and
// gradient-surgery method is one Aggregator. Plain numbers (Float64Array) on the gradient level, so
// a method's laws can be tested without tfjs and it runs the same on every backend.

/**
 * A dense row-major float64 matrix: on the gradient level, one row per task (its gradient of the
 * shared parameters, flattened in the Trainer's fixed variable order), one column per value.
 * @example
 * const J: Matrix = { rows: 2, cols: 3, data: new Float64Array([1, 0, 0, 0, 1, 0]) };
 */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/**
 * What an aggregator is told about the step.
 * @example
 * const ctx: AggregatorContext = { step: 0, epoch: 0, seed: 7, tasks: ['a', 'b'] };
 */
export interface AggregatorContext {
  /** Optimizer steps completed before this one. */
  step: number;
  /** Epochs completed before this step. */
  epoch: number;
  /** A seed for this step's random draws (RLW, GradDrop...): derived from (run seed, step) alone. */
  seed: number;
  /**
   * Task names, in the order of the losses and of the Jacobian's rows: the Trainer passes the tasks
   * with a loss part in the step, sorted by name (every task every step with mixed batches; a
   * task's relative order is fixed for a run). Per-task state is best keyed by name.
   */
  tasks: readonly string[];
}

/** JSON-serialisable state of a stateful method (goes into checkpoints). */
export type AggregatorState = Record<string, unknown>;

/**
 * Turns per-task losses (and, on the gradient level, per-task gradients of the shared parameters)
 * into one update.
 *
 * - `level: 'loss'`: the Trainer differentiates `combine(losses)` (one backward pass). Task weights
 *   of the config are the default weighted sum; learnable weights (uncertainty weighting) are
 *   {@link Aggregator.trainableVariables}, updated by the same optimizer.
 * - `level: 'gradient'`: the Trainer computes each task's gradient of the shared parameters (rows of
 *   a Jacobian) and `aggregate` returns the update direction of the shared parameters; a parameter
 *   owned by one task gets that task's own gradient.
 * @example
 * const ew: Aggregator = { name: 'equal', level: 'loss', combine: (l) => tf.div(tf.addN(l), l.length) };
 */
export interface Aggregator {
  /** Registry name (`equal`, `pcgrad`...). */
  readonly name: string;
  readonly level: 'loss' | 'gradient';
  /**
   * On the gradient level: gradients of the shared `parameters` (default), or of the shared
   * `representation` (one backward through the trunk; only for trainables that expose it).
   */
  readonly gradientOf?: 'parameters' | 'representation';
  /** Loss level: the scalar to minimise from the per-task losses (in `ctx.tasks` order); runs inside the gradient tape. */
  combine?(losses: readonly tf.Scalar[], ctx: AggregatorContext): tf.Scalar;
  /**
   * Gradient level: the update direction of the shared parameters (length `jacobian.cols`) from
   * the tasks' gradients (rows) and their loss values; the optimizer then applies it like a gradient.
   */
  aggregate?(jacobian: Matrix, losses: Float64Array, ctx: AggregatorContext): Float64Array;
  /** Variables the method learns (e.g. log-variances of uncertainty weighting). */
  trainableVariables?(): tf.Variable[];
  /** Called after every step with the step's loss values (DWA, FAMO...). */
  observe?(losses: Float64Array, ctx: AggregatorContext): void;
  /** The task weights the last step used, when the method has them (logged per task). */
  lastWeights?(): Float64Array | undefined;
  /** State that a resumed run needs; restored by {@link Aggregator.setState} before the first step. */
  getState?(): AggregatorState;
  setState?(state: AggregatorState): void;
  /** Frees tensors the method holds. */
  dispose?(): void;
}
