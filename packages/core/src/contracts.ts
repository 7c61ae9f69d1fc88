import type * as tf from '@tensorflow/tfjs';
import type { RandomStream } from './random.js';

// The contracts between packages (docs/CONTRACTS.md), declared only here: @mtl/data, @mtl/tasks,
// @mtl/training, @mtl/variational, @mtl/vae and the app import them; contracts.test.ts fails when
// one of these names is declared anywhere else. Types only, no runtime code.

/**
 * One batch of rows from one dataset. Inputs are keyed by field, labels by label name (by
 * default a task reads the label named like the task). The consumer owns the tensors: dispose
 * them with {@link disposeBatch} when done.
 */
export interface Batch {
  /** Name of the dataset the rows come from (e.g. `circleDataset`). */
  dataset: string;
  /** Split of that dataset (e.g. `train`, `valid`, `test`), matched exactly, never by substring. */
  split: string;
  /** Inputs by field: `[B, ...rowShape]` float32. A padded variable-length field `f` also has `f_mask` `[B, maxLen]` (1 = real, 0 = pad). */
  X: Record<string, tf.Tensor>;
  /**
   * Labels by name: class ids `[B]` int32 (the abstain label -1 marks rows without a label),
   * soft labels `[B, C]` float32, multi-label `[B, L]` float32 0/1, or regression targets `[B]`/`[B, k]` float32.
   */
  Y: Record<string, tf.Tensor>;
  /** Number of rows. */
  size: number;
  /** Row indices in the dataset, in batch order. */
  indices: Int32Array;
}

/**
 * What a batch scheduler yields for one training step: a single batch (`shuffled`, `sequential`,
 * `roundRobin`) or one batch of every loader (`mixed`).
 */
export type StepBatches = Batch[];

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
  /**
   * Named terms of no task (e.g. a module's added losses, `encoder.commitment`): each is added to
   * the objective unweighted, like `extra`, and logged by name as `model/all/train/<name>`.
   */
  terms?: Record<string, tf.Scalar>;
}

/**
 * Which tasks a set of variables serves: `shared` by several tasks (a trunk), or owned by one task
 * (its head). Gradient-level aggregators combine the tasks' gradients of the shared groups only; a
 * task-owned group gets its own task's gradient.
 * @example
 * const groups: ParameterGroup[] = [
 *   { name: 'base_mlp', tasks: ['a', 'b'], variables: ['base_mlp/dense_0/kernel', 'base_mlp/dense_0/bias'] },
 *   { name: 'a_head', tasks: ['a'], variables: ['a_head/kernel', 'a_head/bias'] },
 * ];
 */
export interface ParameterGroup {
  /** A name for logs and errors (a module name). */
  name: string;
  /** Tasks whose loss depends on these variables (one task: owned; several: shared). */
  tasks: string[];
  /** `tf.Variable` names, as in {@link Trainable.trainableVariables}. */
  variables: string[];
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
  /**
   * Which variables are shared by which tasks; every trainable variable in exactly one group.
   * Without it a Trainer treats every variable as shared by all tasks.
   */
  parameterGroups?(): ParameterGroup[];
  /**
   * Optional: one forward of the shared computation (the trunk) on a step's batch, split at the
   * point where the tasks diverge, for gradient-level aggregators with `gradientOf:
   * 'representation'` (MGDA-UB). Same batch and `ctx`, same numbers as {@link Trainable.loss}:
   * `heads(step.representation)` returns what `loss(batch, ctx)` returns. Runs inside the
   * Trainer's gradient tape; tf ops only.
   */
  representation?(batch: B, ctx: StepContext): RepresentationStep;
}

/**
 * A step split at the shared representation: `representation` holds the tensors R computed by the
 * shared parameters (and the batch) alone; `heads(R)` computes the step's loss from R, with every
 * task-owned parameter used after R. The Trainer differentiates each task's loss w.r.t. R (heads
 * only: cheap), lets the aggregator combine those rows, and backpropagates the combined direction
 * through the trunk once. Every shared parameter must be used before R and every task-owned one
 * after it (the Trainer refuses a step that breaks this, naming the variable).
 * @example
 * const step: RepresentationStep = {
 *   representation: [tf.relu(tf.matMul(x, trunkKernel))],
 *   heads: ([r]) => ({ parts: { a: tf.mean(tf.matMul(r!, headA)), b: tf.mean(tf.matMul(r!, headB)) } }),
 * };
 */
export interface RepresentationStep {
  /** The tensors of the shared representation, in a fixed order for a given batch layout. */
  representation: tf.Tensor[];
  /**
   * The step's loss (parts per task, extra, terms) from tensors shaped like `representation`:
   * called with stand-ins for R (constants of the same values), once per task of the step.
   */
  heads(representation: readonly tf.Tensor[]): LossOutput;
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
