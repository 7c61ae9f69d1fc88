import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { isMtlError } from '../errors.js';
import { assertNoLeaks } from '../tensors.js';
import { checkGradients } from './check-gradients.js';
import { type FusedInputs, type FusedPrior, fusedLogisticLoss } from './fused-logistic-loss.js';
import { stopGradient } from './stop-gradient.js';

const T = 3;
const D = 2;
const M = 2;
const B = 4;

function makeInputs(): FusedInputs {
  const rows = [4, 4, 3];
  const xs = rows.map((b, t) => tf.randomNormal([b, D], 0, 1, 'float32', 100 + t));
  const ys = [
    tf.tensor1d([0, 1, 1, 0], 'int32'),
    tf.tensor1d([1, 1, 0, 0], 'int32'),
    tf.tensor1d([1, 0, 1], 'int32'),
  ];
  // N_t / (B_t · M) on real rows, 0 on the padding row of the third task.
  const scale = tf.tensor3d(
    rows.flatMap((b) => Array.from({ length: B }, (_, r) => (r < b ? 10 / (b * M) : 0))),
    [T, B, 1],
  );
  const gumbel = tf.randomNormal([T, T], 0, 1, 'float32', 7);
  const offset = tf.tidy(() => tf.add(tf.mul(gumbel, 2), tf.mul(tf.eye(T), -1e9)) as tf.Tensor2D);
  gumbel.dispose();
  return {
    xs,
    ys,
    scale,
    samples: M,
    epsSeed: 5,
    offset: () => offset,
    invTau: 2,
    klWeight: 0.7,
  };
}

function disposeInputs(inputs: FusedInputs): void {
  tf.dispose([...inputs.xs, ...inputs.ys, inputs.scale, inputs.offset!()]);
}

/** KL(q_t || N(m, v)) per task, summed over D: [T]. */
function gaussianKl(mu: tf.Tensor, ls: tf.Tensor, m: tf.Tensor, v: tf.Tensor): tf.Tensor {
  const V = tf.exp(tf.mul(ls, 2));
  return tf.sum(
    tf.sub(
      tf.add(tf.mul(tf.log(v), 0.5), tf.div(tf.add(V, tf.square(tf.sub(mu, m))), tf.mul(v, 2))),
      tf.add(ls, 0.5),
    ),
    -1,
  );
}

/**
 * The formulas of fusedLogisticLoss's documentation as plain tf ops, for autodiff. Where the op cuts
 * the prior's side from the gradient (upperBound detached, momentMatched's moments), `frozen`
 * replaces that side by constants (what finite differences can see) instead of stopGradient.
 */
function reference(inputs: FusedInputs, prior: FusedPrior, detach: boolean, frozen?: tf.Tensor) {
  return (params: tf.Tensor, alphaLogits?: tf.Tensor): tf.Tensor => {
    const [mu, ls] = tf.unstack(params) as [tf.Tensor2D, tf.Tensor2D];
    const cut = (t: tf.Tensor, i: number) => (frozen ? tf.unstack(frozen)[i]! : stopGradient(t));
    const sigma = tf.exp(ls);
    const eps = tf.transpose(tf.randomNormal([M, T, D], 0, 1, 'float32', inputs.epsSeed), [1, 0, 2]);
    const w = tf.add(tf.expandDims(mu, 1), tf.mul(tf.expandDims(sigma, 1), eps)); // [T, M, D]
    const pad = (t: tf.Tensor) =>
      t.shape[0] === B
        ? t
        : tf.pad(t, [[0, B - t.shape[0]!], ...t.shape.slice(1).map((): [number, number] => [0, 0])]);
    const x = tf.stack(inputs.xs.map(pad)) as tf.Tensor3D; // [T, B, D]
    const y = tf.reshape(tf.stack(inputs.ys.map((t) => pad(tf.cast(t, 'float32')))), [T, B, 1]);
    const u = tf.mul(tf.matMul(x, w as tf.Tensor3D, false, true), tf.sub(1, tf.mul(y, 2))); // [T, B, M]
    const likelihood = tf.sum(tf.mul(tf.softplus(u), inputs.scale), [1, 2]);
    let kl: tf.Tensor;
    if (prior === 'standardNormal') kl = gaussianKl(mu, ls, tf.zerosLike(mu), tf.onesLike(mu));
    else {
      const alpha = tf.softmax(tf.add(tf.mul(alphaLogits!, inputs.invTau), inputs.offset!()));
      if (prior === 'upperBound') {
        // KL(q_t || q_k) for every pair [T, T], the components' side cut when detached.
        const muK = detach ? cut(mu, 0) : mu;
        const lsK = detach ? cut(ls, 1) : ls;
        const pair = gaussianKl(
          tf.expandDims(mu, 1),
          tf.expandDims(ls, 1),
          tf.expandDims(muK, 0),
          tf.expandDims(tf.exp(tf.mul(lsK, 2)), 0),
        );
        kl = tf.sum(tf.mul(alpha, pair), 1);
      } else {
        // The moment-matched prior's moments carry gradient to α only.
        const m = tf.matMul(alpha, cut(mu, 0) as tf.Tensor2D);
        const v = tf.matMul(tf.square(alpha), tf.exp(tf.mul(cut(ls, 1), 2)) as tf.Tensor2D);
        kl = gaussianKl(mu, ls, m, v);
      }
    }
    return tf.div(tf.add(likelihood, tf.mul(kl, inputs.klWeight)), T);
  };
}

describe('fusedLogisticLoss', () => {
  const cases: [FusedPrior, boolean][] = [
    ['standardNormal', false],
    ['upperBound', false],
    ['upperBound', true],
    ['momentMatched', false],
  ];
  it.each(cases)(
    '%s (detach %s): value and gradients pass the gradient check against its formulas',
    async (prior, detach) => {
      const inputs = makeInputs();
      const params = tf.tidy(() =>
        tf.stack([
          tf.randomNormal([T, D], 0, 0.5, 'float32', 1),
          tf.randomNormal([T, D], -0.3, 0.3, 'float32', 2),
        ]),
      );
      const alphaLogits = tf.randomNormal([T, T], 0, 1, 'float32', 3);
      const mixture = prior !== 'standardNormal';
      await assertNoLeaks(() => {
        const check = checkGradients(
          (p, a) =>
            fusedLogisticLoss(p as tf.Tensor3D, mixture ? (a as tf.Tensor2D) : null, inputs, prior, detach),
          mixture ? [params, alphaLogits] : [params],
          {
            reference: reference(inputs, prior, detach),
            // Finite differences of the loss with the cut side held at the point's values.
            ...(detach || prior === 'momentMatched'
              ? { surrogate: reference(inputs, prior, detach, params) }
              : {}),
            valueTolerance: 1e-5,
            referenceTolerance: 1e-4,
          },
        );
        expect(check.failures).toEqual([]);
        expect(check.inputs).toHaveLength(mixture ? 2 : 1);
      });
      tf.dispose([params, alphaLogits]);
      disposeInputs(inputs);
    },
  );

  it('a mixture prior without alpha logits is an INTERNAL error', () => {
    const inputs = makeInputs();
    const params = tf.zeros([2, T, D]) as tf.Tensor3D;
    let error: unknown;
    try {
      fusedLogisticLoss(params, null, inputs, 'upperBound', false);
    } catch (e) {
      error = e;
    }
    expect(isMtlError(error, 'INTERNAL')).toBe(true);
    params.dispose();
    disposeInputs(inputs);
  });
});
