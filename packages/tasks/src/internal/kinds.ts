import { MtlError } from '@mtl/core';
import { labeledRows, softmaxCrossEntropy, softmaxCrossEntropyRows } from '@mtl/core/ops';
import * as tf from '@tensorflow/tfjs';

/**
 * The kinds of task; each fixes the default loss, output and label format.
 * @example
 * TASK_KINDS.includes('multilabel'); // true
 */
export const TASK_KINDS = ['multiclass', 'binary', 'multilabel', 'regression'] as const;
/**
 * One of {@link TASK_KINDS}.
 * @example
 * const kind: TaskKind = 'regression';
 */
export type TaskKind = (typeof TASK_KINDS)[number];

/**
 * A custom loss: per-row losses `[B]` from the task's outputs (the last operation's tensor) and
 * float targets: `[B, C]` probability rows for multiclass and binary (one-hot rows for class ids),
 * `[B, L]` cells for multi-label, `[B, k]` values for regression. Rows without a label (abstain)
 * arrive with zero targets and `mask` 0 (`mask` is `[B]`); their losses are multiplied by `mask`,
 * so they must be finite. The model averages over labeled rows.
 * @example
 * const hinge: TaskLossFn = ({ outputs, targets }) =>
 *   tf.sum(tf.relu(tf.sub(1, tf.mul(outputs, tf.sub(tf.mul(targets, 2), 1)))), 1);
 */
export type TaskLossFn = (args: { outputs: tf.Tensor; targets: tf.Tensor; mask: tf.Tensor }) => tf.Tensor;

/**
 * A custom output: probabilities (or values) `[B, C]` from the task's outputs.
 * @example
 * const sharpened: TaskOutputFn = (logits) => tf.softmax(tf.mul(logits, 2));
 */
export type TaskOutputFn = (outputs: tf.Tensor) => tf.Tensor;

/** Sum of the losses over labeled units (rows or cells) and their number, for masked means. */
export interface LossTerms {
  sum: tf.Scalar;
  count: tf.Scalar;
}

interface Prepared {
  /** Labels with abstained units zeroed, in the shape the loss uses. */
  safe: tf.Tensor;
  /** 1 for labeled units, 0 for abstained ones (float32; the same shape as the units). */
  unitMask: tf.Tensor;
  /** 1 for rows with at least one labeled unit. */
  rowMask: tf.Tensor1D;
}

function mismatch(reason: string, place: string): MtlError {
  return new MtlError('DATA_SHAPE_MISMATCH', reason, { place });
}

/** Outputs as `[B, C]` (a `[B]` output is one column). */
function asMatrix(outputs: tf.Tensor, place: string): tf.Tensor2D {
  if (outputs.rank === 1) return tf.reshape(outputs, [-1, 1]) as tf.Tensor2D;
  if (outputs.rank !== 2) {
    throw mismatch(`the last operation must output [batch, columns], got [${outputs.shape}]`, place);
  }
  return outputs as tf.Tensor2D;
}

/**
 * Checks the shape of class labels against `[B, C]` outputs: class ids `[B]` (false) or probability
 * rows `[B, classes]` (true).
 */
function checkClassLabels(outputs: tf.Tensor2D, labels: tf.Tensor, classes: number, place: string): boolean {
  const b = outputs.shape[0];
  if (labels.shape[0] !== b) {
    throw mismatch(`labels have ${labels.shape[0]} rows but the outputs have ${b}`, place);
  }
  if (labels.rank === 1) return false;
  if (labels.rank === 2 && labels.shape[1] === classes) return true;
  throw mismatch(
    `labels must be class ids [${b}] or probability rows [${b}, ${classes}], got [${labels.shape}]`,
    place,
  );
}

/**
 * Validates the labels against the outputs and builds float masks. Masks come from the labels
 * only (never from variables), so no boolean tensor is on the gradient path.
 */
function prepare(kind: TaskKind, outputs: tf.Tensor2D, labels: tf.Tensor, place: string): Prepared {
  const [b, c] = outputs.shape;
  if (labels.shape[0] !== b) {
    throw mismatch(`labels have ${labels.shape[0]} rows but the outputs have ${b}`, place);
  }
  if (kind === 'multiclass' || kind === 'binary') {
    const classes = kind === 'binary' ? 2 : c;
    if (kind === 'binary' && c !== 1) {
      throw mismatch(
        `a binary task's last operation outputs one logit per row, got ${c} columns (use kind 'multiclass' for a ${c}-way softmax)`,
        place,
      );
    }
    if (!checkClassLabels(outputs, labels, classes, place)) {
      const ids = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
      const rowMask = tf.cast(tf.notEqual(ids, -1), 'float32') as tf.Tensor1D;
      // oneHot of -1 (or any id out of range) is a zero row: abstained rows carry no target. The
      // cast is not optional: wasm's OneHot ignores the dtype argument and writes int32 data.
      const target = tf.cast(tf.oneHot(ids as tf.Tensor1D, classes), 'float32');
      return { safe: target, unitMask: rowMask, rowMask };
    }
    const soft = labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32');
    // A soft row with a negative entry (e.g. all -1) abstains.
    const rowMask = tf.cast(tf.greaterEqual(tf.min(soft, 1), 0), 'float32') as tf.Tensor1D;
    return { safe: tf.mul(soft, tf.expandDims(rowMask, 1)), unitMask: rowMask, rowMask };
  }
  if (kind === 'multilabel') {
    if (labels.rank !== 2 || labels.shape[1] !== c) {
      throw mismatch(
        `multi-label labels must be [${b}, ${c}] (0/1, -1 = missing), got [${labels.shape}]`,
        place,
      );
    }
    const y = labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32');
    const unitMask = tf.cast(tf.greaterEqual(y, 0), 'float32');
    const rowMask = tf.cast(tf.greater(tf.sum(unitMask, 1), 0), 'float32') as tf.Tensor1D;
    return { safe: tf.mul(y, unitMask), unitMask, rowMask };
  }
  const y = tf.reshape(labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32'), [b, -1]);
  if (y.shape[1] !== c) {
    throw mismatch(`regression targets have ${y.shape[1]} values per row but the outputs have ${c}`, place);
  }
  // NaN marks a missing target; it must not reach the arithmetic, where NaN * 0 is still NaN.
  const missing = tf.isNaN(y);
  const unitMask = tf.cast(tf.logicalNot(missing), 'float32');
  const rowMask = tf.cast(tf.greater(tf.sum(unitMask, 1), 0), 'float32') as tf.Tensor1D;
  return { safe: tf.where(missing, tf.zerosLike(y), y), unitMask, rowMask };
}

/** Masked loss terms of one task on one batch. */
export function lossTerms(
  kind: TaskKind,
  rawOutputs: tf.Tensor,
  labels: tf.Tensor,
  custom: TaskLossFn | undefined,
  place: string,
): LossTerms {
  const outputs = asMatrix(rawOutputs, place);
  if (kind === 'multiclass' && custom === undefined) {
    // @mtl/core's cross-entropy, with its rule for ids outside [0, C) (abstain, not counted).
    const soft = checkClassLabels(outputs, labels, outputs.shape[1], place);
    return {
      sum: tf.sum(softmaxCrossEntropyRows(outputs, labels, soft)),
      count: tf.sum(labeledRows(labels, outputs.shape[1], soft)),
    };
  }
  const p = prepare(kind, outputs, labels, place);
  if (custom !== undefined) {
    const rows = custom({ outputs: rawOutputs, targets: p.safe, mask: p.rowMask });
    if (rows.rank !== 1 || rows.shape[0] !== outputs.shape[0]) {
      throw mismatch(
        `a custom loss must return one loss per row [${outputs.shape[0]}], got [${rows.shape}]`,
        place,
      );
    }
    return { sum: tf.sum(tf.mul(rows, p.rowMask)), count: tf.sum(p.rowMask) };
  }
  let units: tf.Tensor;
  if (kind === 'binary') {
    // Soft or hard targets t = P(class 1); sigmoid cross-entropy softplus(z) - z t is stable for any z.
    const z = tf.reshape(outputs, [-1]);
    const t = tf.reshape(tf.slice(p.safe, [0, 1], [-1, 1]), [-1]);
    units = tf.sub(tf.softplus(z), tf.mul(z, t));
  } else if (kind === 'multilabel') {
    units = tf.sub(tf.softplus(outputs), tf.mul(outputs, p.safe));
  } else {
    units = tf.squaredDifference(outputs, p.safe);
  }
  return { sum: tf.sum(tf.mul(units, p.unitMask)), count: tf.sum(p.unitMask) };
}

/**
 * The training loss of one task on one batch: the mean of {@link lossTerms} over labeled units.
 * A multiclass task with the default loss takes @mtl/core's `softmaxCrossEntropy` (one taped op for
 * class ids).
 */
export function taskLoss(
  kind: TaskKind,
  rawOutputs: tf.Tensor,
  labels: tf.Tensor,
  custom: TaskLossFn | undefined,
  place: string,
): tf.Scalar {
  if (kind === 'multiclass' && custom === undefined && rawOutputs.rank === 2) {
    const outputs = rawOutputs as tf.Tensor2D;
    checkClassLabels(outputs, labels, outputs.shape[1], place);
    return softmaxCrossEntropy(outputs, labels);
  }
  return maskedMean(lossTerms(kind, rawOutputs, labels, custom, place));
}

/** Mean over labeled units; 0 (not NaN) when no unit is labeled. */
export function maskedMean(terms: LossTerms): tf.Scalar {
  return tf.div(terms.sum, tf.maximum(terms.count, 1));
}

/** Probabilities `[B, C]` (class kinds), `[B, L]` (multi-label) or values `[B, k]` (regression). */
export function outputProbs(
  kind: TaskKind,
  outputs: tf.Tensor,
  custom: TaskOutputFn | undefined,
  place: string,
): tf.Tensor2D {
  if (custom !== undefined) return asMatrix(custom(outputs), place);
  const m = asMatrix(outputs, place);
  if (kind === 'multiclass') return tf.softmax(m);
  if (kind === 'binary') {
    if (m.shape[1] !== 1) {
      throw mismatch(
        `a binary task's last operation outputs one logit per row, got ${m.shape[1]} columns`,
        place,
      );
    }
    const p = tf.sigmoid(m);
    return tf.concat([tf.sub(1, p), p], 1) as tf.Tensor2D;
  }
  if (kind === 'multilabel') return tf.sigmoid(m);
  return m;
}

/** Predictions from {@link outputProbs}: class ids `[B]`, 0/1 cells `[B, L]`, or the values. */
export function predsFromProbs(kind: TaskKind, probs: tf.Tensor2D): tf.Tensor {
  if (kind === 'multiclass' || kind === 'binary') return tf.cast(tf.argMax(probs, 1), 'float32');
  if (kind === 'multilabel') return tf.cast(tf.greater(probs, 0.5), 'float32');
  return probs;
}

/** Golds as scored: class ids `[B]` (-1 = abstain; a soft row counts as its argmax), cells, targets. */
export function goldsFromLabels(kind: TaskKind, labels: tf.Tensor, width: number): tf.Tensor {
  const y = labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32');
  if (kind === 'multiclass' || kind === 'binary') {
    if (y.rank === 1) return y;
    const abstain = tf.less(tf.min(y, 1), 0);
    return tf.where(abstain, tf.fill([y.shape[0]!], -1), tf.cast(tf.argMax(y, 1), 'float32'));
  }
  if (kind === 'multilabel') {
    return tf.where(tf.less(y, 0), tf.fill(y.shape, -1), tf.cast(tf.greaterEqual(y, 0.5), 'float32'));
  }
  return tf.reshape(y, [y.shape[0]!, width]);
}
