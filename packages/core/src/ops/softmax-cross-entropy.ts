// Softmax cross-entropy, the one implementation every package uses (task losses and their
// evaluation in @mtl/tasks, Categorical.logProb in @mtl/variational).
//
// The rule for labels that name no class, everywhere: a class id outside [0, C) contributes no loss
// and no gradient and is left out of the mean's count. -1 is the abstain label (an unlabeled row);
// any other id outside [0, C) is a data error that the host-side checks refuse before a loss is
// computed (@mtl/tasks' output check, LABEL_OUT_OF_RANGE; @mtl/data's readers likewise), so inside
// the op it can only be treated as -1 is. A soft-label row with a negative entry (e.g. all -1)
// abstains the same way.
import * as tf from '@tensorflow/tfjs';
import { hasKernel, SOFTMAX_CROSS_ENTROPY_KERNEL } from './capabilities.js';

/**
 * `log softmax(z)` over the last axis, written out: tf.logSoftmax adds casts and a custom-gradient
 * wrapper of its own, and its arithmetic is this one (so values agree bit for bit).
 */
function logSoftmaxOf(z: tf.Tensor): tf.Tensor {
  const shifted = tf.sub(z, tf.max(z, -1, true));
  return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
}

/** One-hot float targets of class ids: a zero row for any id outside [0, classes). */
function oneHotTargets(labels: tf.Tensor, classes: number): tf.Tensor {
  const ids = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
  // The cast is needed: wasm's OneHot ignores the dtype argument and writes int32 data.
  return tf.cast(tf.oneHot(ids, classes), 'float32');
}

/** 1 for a soft row whose entries are all ≥ 0, 0 for an abstained one; `[...]` of `[..., C]`. */
function softRowMask(soft: tf.Tensor): tf.Tensor {
  return tf.cast(tf.greaterEqual(tf.min(soft, -1), 0), 'float32');
}

/**
 * Per-row softmax cross-entropy `−Σ_c t_c · log softmax(z)_c` over the last axis of `logits [..., C]`:
 * `labels` are class ids `[...]` (int32 or integral floats; broadcast against the logits' leading
 * axes, so `[S, ...B]` ids may meet `[...B, C]` logits) or, with `soft`, probability rows `[..., C]`.
 * An abstained row (see the rule above: an id outside `[0, C)`, or a soft row with a negative entry)
 * is 0 with no gradient. A plain composition of tf ops, differentiated by autodiff.
 * @example
 * const rows = softmaxCrossEntropyRows(logits, tf.tensor1d([2, -1, 0], 'int32')); // [3], rows[1] = 0
 */
export function softmaxCrossEntropyRows(logits: tf.Tensor, labels: tf.Tensor, soft = false): tf.Tensor {
  const classes = logits.shape[logits.rank - 1]!;
  let target: tf.Tensor;
  if (!soft) target = oneHotTargets(labels, classes);
  else {
    const soft = labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32');
    target = tf.mul(soft, tf.expandDims(softRowMask(soft), -1));
  }
  return tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits)), -1));
}

/**
 * 1 for the rows that count in a mean cross-entropy (a class id in `[0, C)`, or with `soft` a
 * probability row without a negative entry), 0 for abstained ones: float32, the shape of
 * {@link softmaxCrossEntropyRows}.
 * @example
 * labeledRows(tf.tensor1d([2, -1, 0], 'int32'), 3); // [1, 0, 1]
 */
export function labeledRows(labels: tf.Tensor, classes: number, soft = false): tf.Tensor {
  if (soft) return softRowMask(labels.dtype === 'float32' ? labels : tf.cast(labels, 'float32'));
  const ids = labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32');
  return tf.cast(tf.logicalAnd(tf.greaterEqual(ids, 0), tf.less(ids, classes)), 'float32');
}

/**
 * Mean softmax cross-entropy of class ids as one taped op: `−Σ_rc t_rc·log softmax(z)_rc / max(Σ_rc
 * t_rc, 1)` with `t = oneHot(labels)` (a zero row for an abstained row). Its gradient in `logits` is
 * `(softmax(z)·Σ_c t_rc − t_r) / max(Σ t, 1)`: `(softmax(z) − t_r) / max(Σ t, 1)` on labeled rows, 0
 * on the others. The targets are built inside the op, where no tape records them.
 */
const meanOfIds: (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar = tf.customGrad(
  (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, labels, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    if (labels.dtype === 'int32' && hasKernel(SOFTMAX_CROSS_ENTROPY_KERNEL)) {
      // One kernel for the loss and its gradient (registered by @mtl/native), instead of about 20.
      const [loss, unitGrad] = tf.engine().runKernel(SOFTMAX_CROSS_ENTROPY_KERNEL, { logits: z, labels }) as [
        tf.Scalar,
        tf.Tensor2D,
      ];
      save([unitGrad!]);
      return {
        value: loss!,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const dz = tf.mul(saved[0]!, dy);
          return [dz, dz];
        },
      };
    }
    const target = oneHotTargets(labels, z.shape[1]) as tf.Tensor2D;
    const logp = logSoftmaxOf(z);
    const count = tf.maximum(tf.sum(target), 1);
    // Forward intermediates are freed before the backward pass: what it needs is saved.
    save([logp, target, count]);
    return {
      // −log p ≥ 0 before the products: no labeled row gives +0, not −0.
      value: tf.div(tf.sum(tf.mul(target, tf.neg(logp))), count) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sLogp, sTarget, sCount] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Scalar];
        const labeled = tf.sum(sTarget, 1, true);
        const dz = tf.mul(tf.sub(tf.mul(tf.exp(sLogp), labeled), sTarget), tf.div(dy, sCount));
        // The labels are data, off the path to any variable: their gradient is never asked for.
        return [dz, dz];
      },
    };
  },
) as unknown as (logits: tf.Tensor2D, labels: tf.Tensor1D) => tf.Scalar;

/**
 * Mean softmax cross-entropy over the labeled rows of `logits [B, C]`; 0 (with a zero gradient) when
 * no row is labeled. `labels`: class ids `[B]` (-1 abstains; any other id outside `[0, C)` too,
 * though callers refuse those first, see the rule above) or probability rows `[B, C]` (a row with a
 * negative entry abstains). Class ids take one fused taped op, and @mtl/native's kernel where it is
 * registered; probability rows the plain composition of {@link softmaxCrossEntropyRows}.
 * @example
 * const loss = softmaxCrossEntropy(logits, tf.tensor1d([2, -1, 0], 'int32')); // mean over rows 0 and 2
 */
export function softmaxCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor): tf.Scalar {
  if (labels.rank === 1) return meanOfIds(logits, labels as tf.Tensor1D);
  const classes = logits.shape[1];
  const sum = tf.sum(softmaxCrossEntropyRows(logits, labels, true));
  return tf.div(sum, tf.maximum(tf.sum(labeledRows(labels, classes, true)), 1));
}
