// The loss of @mtl/variational's VMTL model with its logistic classifier, as one op: the model's
// hot path. Here with the other hand-written ops so that one gradient check covers them all.
import * as tf from '@tensorflow/tfjs';
import { MtlError } from '../errors.js';

/**
 * Classifier priors the fused path implements (others go through the generic ELBO).
 * @example
 * const prior: FusedPrior = 'upperBound';
 */
export type FusedPrior = 'upperBound' | 'momentMatched' | 'standardNormal';

/**
 * One step's data and draws; everything here is a constant of the gradient.
 * @example
 * const inputs: FusedInputs = { xs, ys, scale, samples: 4, epsSeed: 7, invTau: 1, klWeight: 1 };
 */
export interface FusedInputs {
  /** Each task's inputs `[B_t, D]`. */
  xs: readonly tf.Tensor[];
  /** Each task's 0/1 labels `[B_t]`. */
  ys: readonly tf.Tensor[];
  /** N_t / (B_t · M) on real rows, 0 on padding: `[T, B, 1]`, B = max B_t. */
  scale: tf.Tensor3D;
  /** Classifier samples M. */
  samples: number;
  /** Seed of the classifier draws ε ~ N(0, I), drawn as `[M, T, D]` like `Normal.rsample`. */
  epsSeed: number;
  /** Gumbel noise / τ plus the diagonal mask `[T, T]` (mixture priors only), built inside the op. */
  offset?: () => tf.Tensor2D;
  /** 1 / τ. */
  invTau: number;
  /** KL annealing weight κ. */
  klWeight: number;
}

/**
 * The negative ELBO of variational Bayesian logistic regression with a diagonal Gaussian q(w_t)
 * per task, a deterministic latent, and one of the classifier priors, as ONE tfjs op with a
 * hand-written gradient: `[T]` = (likelihood_t + κ · KL_t) / T.
 *
 * Autodiff would record ~70 ops (each cloning the tensors its gradient needs) and replay ~160
 * kernels backwards; here the forward is ~30 kernels and the backward ~30, which is what makes a
 * training step cheap. The formulas (N_t, B_t, M, α, τ as in the paper; V = σ², P = σ⁻²):
 *   likelihood_t = Σ_b,m c_tb softplus(s_tb · x_tb · w_tm),  w_tm = μ_t + σ_t ⊙ ε_tm
 *   upperBound:    KL_t = Σ_k α_tk KL(q_t || q_k),  α_t = softmax(A_t / τ + g_t / τ + mask)
 *   momentMatched: KL_t = KL(q_t || N(Σ_k α_tk μ_k, Σ_k α_tk² V_k))
 *   standardNormal: KL_t = KL(q_t || N(0, I))
 * Its gradients are checked against finite differences and autodiff of the formulas above
 * (fused-logistic-loss.test.ts), and in @mtl/variational against the generic `MultiTaskElbo`.
 * @example
 * const perTask = fusedLogisticLoss(params, null, inputs, 'standardNormal', false); // [T]
 */
export function fusedLogisticLoss(
  params: tf.Tensor3D,
  alphaLogits: tf.Tensor2D | null,
  inputs: FusedInputs,
  prior: FusedPrior,
  detach: boolean,
): tf.Tensor1D {
  const [, T, D] = params.shape;
  const { invTau, klWeight } = inputs;
  const M = inputs.samples;
  const mixture = prior !== 'standardNormal';
  if (mixture && (!alphaLogits || !inputs.offset)) {
    throw new MtlError('INTERNAL', 'a mixture prior needs alpha logits and a noise offset', {
      place: 'fusedLogisticLoss',
    });
  }
  const op = tf.customGrad((...args: unknown[]) => {
    const p = args[0] as tf.Tensor3D;
    const A = mixture ? (args[1] as tf.Tensor2D) : null;
    const save = args[args.length - 1] as (tensors: tf.Tensor[]) => void;
    // The step's constants are built here, where the tape is off: outside, every op would be
    // recorded and its inputs cloned for a backward pass that never reaches them.
    const B = inputs.scale.shape[1];
    const pad = (t: tf.Tensor) =>
      t.shape[0] === B
        ? t
        : tf.pad(t, [[0, B - t.shape[0]!], ...t.shape.slice(1).map((): [number, number] => [0, 0])]);
    // One concat (not a stack, which some backends run as T expand-dims plus a concat).
    const x = tf.reshape(tf.concat(inputs.xs.map(pad)), [T, B, D]) as tf.Tensor3D;
    // Labels of one dtype are joined first and cast once: one kernel instead of one per task.
    const sameDtype = inputs.ys.every((t) => t.dtype === inputs.ys[0]!.dtype);
    const joined = sameDtype
      ? tf.cast(tf.concat(inputs.ys.map(pad)), 'float32')
      : tf.concat(inputs.ys.map((t) => pad(t.dtype === 'float32' ? t : tf.cast(t, 'float32'))));
    const y = tf.reshape(joined, [T, B, 1]);
    const sign = tf.sub(1, tf.mul(y, 2));
    const signScale = tf.mul(sign, inputs.scale);
    const eps = tf.transpose(tf.randomNormal([M, T, D], 0, 1, 'float32', inputs.epsSeed), [1, 0, 2]);
    const [mu, ls] = tf.unstack(p) as [tf.Tensor2D, tf.Tensor2D];
    const sigma = tf.exp(ls);
    const w = tf.add(tf.expandDims(mu, 1), tf.mul(tf.expandDims(sigma, 1), eps));
    const u = tf.mul(tf.matMul(x, w as tf.Tensor3D, false, true), sign);
    const likelihood = tf.sum(tf.mul(tf.softplus(u), inputs.scale), [1, 2]);
    const V = tf.square(sigma);
    let kl: tf.Tensor;
    let toSave: tf.Tensor[];
    if (prior === 'standardNormal') {
      kl = tf.sum(tf.sub(tf.mul(tf.add(V, tf.square(mu)), 0.5), tf.add(ls, 0.5)), 1);
      toSave = [u, sigma, V];
    } else {
      const offset = (inputs.offset as () => tf.Tensor2D)();
      const alpha = tf.softmax(
        tf.add(invTau === 1 ? (A as tf.Tensor2D) : tf.mul(A as tf.Tensor2D, invTau), offset),
      );
      const P = tf.exp(tf.mul(ls, -2));
      if (prior === 'upperBound') {
        // klm[t][k] = KL(q_t || q_k) + D/2: the constant cancels in Σ_k α_tk (rows sum to 1) but for -D/2 below.
        // Σ_d (V_t + (μ_t - μ_k)²) P_k by broadcasting over [T, T, D]: exact differences, and fewer
        // ops than the matrix-product form for the task counts this model sees.
        const muc = tf.sub(mu, tf.mean(mu, 0, true));
        const diff2 = tf.square(tf.sub(tf.expandDims(mu, 1), tf.expandDims(mu, 0)));
        const quad = tf.sum(tf.mul(tf.add(diff2, tf.expandDims(V, 1)), tf.expandDims(P, 0)), 2);
        const sumLs = tf.sum(ls, 1);
        const klm = tf.add(tf.mul(quad, 0.5), tf.sub(tf.reshape(sumLs, [1, T]), tf.reshape(sumLs, [T, 1])));
        kl = tf.sub(tf.sum(tf.mul(alpha, klm), 1), D / 2);
        toSave = [u, sigma, V, P, alpha, klm, muc];
      } else {
        const m = tf.matMul(alpha, mu);
        const v = tf.matMul(tf.square(alpha), V);
        const r = tf.sub(mu, m);
        kl = tf.sum(
          tf.sub(
            tf.add(tf.mul(tf.log(v), 0.5), tf.div(tf.add(V, tf.square(r)), tf.mul(v, 2))),
            tf.add(ls, 0.5),
          ),
          1,
        );
        toSave = [u, sigma, V, alpha, r, v];
      }
    }
    save([x, signScale, eps, ...toSave]);
    const value = tf.div(tf.add(likelihood, klWeight === 1 ? kl : tf.mul(kl, klWeight)), T) as tf.Tensor1D;
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [x, signScale, eps, u, sigma, V] = saved as [
          tf.Tensor3D,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor,
          tf.Tensor2D,
          tf.Tensor2D,
        ];
        const g = tf.div(dy, T); // [T]: d total / d (likelihood_t + κ KL_t)
        const gT11 = tf.reshape(g, [T, 1, 1]);
        const G = tf.mul(tf.sigmoid(u), tf.mul(signScale, gT11));
        const dw = tf.matMul(G as tf.Tensor3D, x, true, false);
        let dMu: tf.Tensor = tf.sum(dw, 1);
        let dLs: tf.Tensor = tf.mul(tf.sum(tf.mul(dw, eps), 1), sigma);
        const gk = tf.reshape(tf.mul(g, klWeight), [T, 1]); // weight of KL_t
        const means = () => tf.unstack(p)[0] as tf.Tensor2D;
        let dA: tf.Tensor | null = null;
        if (prior === 'standardNormal') {
          const mu = means();
          dMu = tf.add(dMu, tf.mul(mu, gk));
          dLs = tf.add(dLs, tf.mul(tf.sub(V, 1), gk));
        } else if (prior === 'upperBound') {
          // Every formula here depends on means only through differences: the centred means serve.
          const [, , , , , , P, alpha, klm, mu] = saved as tf.Tensor2D[];
          const beta = tf.mul(alpha as tf.Tensor2D, gk) as tf.Tensor2D; // weight of KL(q_t || q_k)
          const betaP = tf.matMul(beta, P as tf.Tensor2D);
          dMu = tf.add(
            dMu,
            tf.sub(
              tf.mul(mu, betaP),
              tf.matMul(beta, tf.mul(mu as tf.Tensor2D, P as tf.Tensor2D) as tf.Tensor2D),
            ),
          );
          dLs = tf.add(dLs, tf.sub(tf.mul(V, betaP), gk));
          if (!detach) {
            // The components' side: ∂KL(q_t||q_k)/∂μ_k = -(μ_t - μ_k) P_k, ∂/∂ls_k = 1 - (V_t + (μ_t - μ_k)²) P_k.
            const colSum = tf.reshape(tf.sum(beta, 0), [T, 1]);
            const bMu = tf.matMul(beta, mu, true, false);
            const bSecond = tf.matMul(beta, tf.add(V, tf.square(mu)) as tf.Tensor2D, true, false);
            dMu = tf.sub(dMu, tf.mul(P as tf.Tensor2D, tf.sub(bMu, tf.mul(mu, colSum))));
            const inner = tf.add(tf.sub(bSecond, tf.mul(tf.mul(mu, bMu), 2)), tf.mul(tf.square(mu), colSum));
            dLs = tf.add(dLs, tf.sub(colSum, tf.mul(P as tf.Tensor2D, inner)));
          }
          const dAlpha = tf.mul(klm as tf.Tensor2D, gk);
          dA = tf.mul(
            tf.mul(
              alpha as tf.Tensor2D,
              tf.sub(dAlpha, tf.sum(tf.mul(alpha as tf.Tensor2D, dAlpha), 1, true)),
            ),
            invTau,
          );
        } else {
          const [, , , , , , alpha, r, v] = saved as tf.Tensor2D[];
          const mu = means();
          const rv = tf.div(r as tf.Tensor2D, v as tf.Tensor2D);
          dMu = tf.add(dMu, tf.mul(rv, gk));
          dLs = tf.add(dLs, tf.mul(tf.sub(tf.div(V, v as tf.Tensor2D), 1), gk));
          // Through the prior's mean m = αμ and variance v = α²V.
          const dm = tf.mul(tf.neg(rv), gk) as tf.Tensor2D;
          const dv = tf.mul(
            tf.sub(
              tf.div(0.5, v as tf.Tensor2D),
              tf.div(tf.add(V, tf.square(r as tf.Tensor2D)), tf.mul(tf.square(v as tf.Tensor2D), 2)),
            ),
            gk,
          ) as tf.Tensor2D;
          const dAlpha = tf.add(
            tf.matMul(dm, mu, false, true),
            tf.mul(tf.mul(alpha as tf.Tensor2D, tf.matMul(dv, V, false, true)), 2),
          );
          dA = tf.mul(
            tf.mul(
              alpha as tf.Tensor2D,
              tf.sub(dAlpha, tf.sum(tf.mul(alpha as tf.Tensor2D, dAlpha), 1, true)),
            ),
            invTau,
          );
        }
        const dp = tf.stack([dMu, dLs]);
        return dA ? [dp, dA] : [dp];
      },
    };
  });
  return (mixture ? op(params, alphaLogits as tf.Tensor2D) : op(params)) as tf.Tensor1D;
}
