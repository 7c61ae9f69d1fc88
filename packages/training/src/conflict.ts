import { MtlError, type StepContext, scoreKey, type Trainable } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { taskOfPart } from './internal/loss-sums.js';

/**
 * Gradient conflict between the tasks on one batch: for every pair of tasks (sorted by name,
 * `a < b`), the cosine similarity of their loss gradients w.r.t. the shared variables and the
 * ratio of their norms `‖g_a‖/‖g_b‖`, as score keys `conflict/<a>/<b>/cosine` and
 * `conflict/<a>/<b>/normRatio`. A negative cosine means a step for one task undoes part of the
 * other's; a norm ratio far from 1 means one task dominates a plain sum. Shared variables: those of
 * a parameter group with two or more tasks (`parameterGroups()`), else every trainable variable.
 * Each task's gradient is one backward pass of `loss(batch, ctx)` (tfjs keeps no tape), summed
 * over the task's parts; changes no weight. A pair with a zero gradient gets no cosine (NaN would
 * stop nothing but reads as a bug) and no norm ratio when `g_b` is zero.
 * @example
 * const scores = gradientConflicts(model, batch, { step: 0, epoch: 0, training: true, seed: 1 });
 * scores['conflict/a/b/cosine']; // in [-1, 1]
 */
export function gradientConflicts<B>(
  trainable: Trainable<B>,
  batch: B,
  ctx: StepContext,
): Record<string, number> {
  const vars = trainable.trainableVariables();
  const groups = trainable.parameterGroups?.();
  const sharedNames =
    groups === undefined
      ? new Set(vars.map((v) => v.name))
      : new Set(groups.filter((g) => g.tasks.length > 1).flatMap((g) => g.variables));
  const shared = vars.filter((v) => sharedNames.has(v.name));
  const tasks = tf.tidy(() => {
    const out = trainable.loss(batch, ctx);
    return [...new Set(Object.keys(out.parts ?? {}).map(taskOfPart))].sort();
  });
  if (shared.length === 0 || tasks.length < 2) return {};
  const grads = tasks.map((task) => {
    const row = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const parts = trainable.loss(batch, ctx).parts ?? {};
        const mine = Object.keys(parts)
          .filter((key) => taskOfPart(key) === task)
          .map((key) => parts[key]!);
        return (mine.length === 1 ? mine[0]! : tf.addN(mine)) as tf.Scalar;
      }, shared);
      // A variable the task does not reach has no gradient: zeros of its size.
      return tf.concat(shared.map((v) => (grads[v.name] ?? tf.zerosLike(v)).reshape([-1]).cast('float32')));
    });
    try {
      return Float64Array.from(row.dataSync());
    } finally {
      row.dispose();
    }
  });
  const norms = grads.map((g) => Math.sqrt(g.reduce((s, x) => s + x * x, 0)));
  const scores: Record<string, number> = {};
  for (let i = 0; i < tasks.length; i++) {
    for (let j = i + 1; j < tasks.length; j++) {
      const a = grads[i]!;
      const b = grads[j]!;
      let dot = 0;
      for (let k = 0; k < a.length; k++) dot += a[k]! * b[k]!;
      if (!Number.isFinite(dot)) {
        throw new MtlError(
          'NON_FINITE_LOSS',
          `the gradients of tasks ${tasks[i]} and ${tasks[j]} are not finite`,
          {
            place: 'gradientConflicts',
          },
        );
      }
      const [ni, nj] = [norms[i]!, norms[j]!];
      if (ni > 0 && nj > 0) scores[scoreKey('conflict', tasks[i]!, tasks[j]!, 'cosine')] = dot / (ni * nj);
      if (nj > 0) scores[scoreKey('conflict', tasks[i]!, tasks[j]!, 'normRatio')] = ni / nj;
    }
  }
  return scores;
}
