import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';

/**
 * The global L2 norm `√(Σ_i ‖g_i‖²)` of a set of gradients, as a scalar tensor (no read-back).
 * @example
 * const n = globalNorm({ a: tf.tensor([3]), b: tf.tensor([4]) }); // 5
 */
export function globalNorm(grads: tf.NamedTensorMap | readonly tf.Tensor[]): tf.Scalar {
  const list = (Array.isArray(grads) ? grads : Object.values(grads)) as (tf.Tensor | null)[];
  return tf.tidy(() => {
    const squares = list.filter((g): g is tf.Tensor => g != null).map((g) => tf.sum(tf.square(g)));
    if (squares.length === 0) return tf.scalar(0);
    return tf.sqrt(squares.length === 1 ? squares[0]! : tf.addN(squares)) as tf.Scalar;
  });
}

/**
 * Scales gradients by `min(1, maxNorm / globalNorm)`, so their global norm is at most `maxNorm`.
 * When no clipping is needed the same tensors come back (nothing new to dispose); otherwise new
 * tensors the caller disposes. Pass `norm` when it is already known to skip reading it.
 * @example
 * const { grads: clipped, norm, clipped: wasClipped } = clipByGlobalNorm({ w: tf.tensor([3, 4]) }, 1);
 * // norm 5, wasClipped true, clipped.w ≈ [0.6, 0.8]
 */
export function clipByGlobalNorm(
  grads: tf.NamedTensorMap,
  maxNorm: number,
  norm?: number,
): { grads: tf.NamedTensorMap; norm: number; clipped: boolean } {
  if (!(maxNorm > 0)) {
    throw new MtlError('INVALID_ARGUMENT', `maxNorm must be > 0, got ${maxNorm}`, {
      place: 'clipByGlobalNorm',
    });
  }
  let n = norm;
  if (n === undefined) {
    const t = globalNorm(grads);
    n = t.dataSync()[0]!;
    t.dispose();
  }
  if (!(n > maxNorm)) return { grads, norm: n, clipped: false };
  const scale = maxNorm / n;
  const out: tf.NamedTensorMap = {};
  for (const [name, g] of Object.entries(grads)) {
    if (g != null) out[name] = tf.mul(g, scale);
  }
  return { grads: out, norm: n, clipped: true };
}
