import * as tf from '@tensorflow/tfjs';

// tfjs has no stop-gradient op: an identity whose gradient is zero does the job.
const stop = tf.customGrad((x) => ({
  value: (x as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/**
 * The values of `x`, cut from the gradient: whatever depends on the result sends no gradient to `x`.
 * @example
 * const c = stopGradient(loss); // c holds loss's value; d(c·loss)/dθ = c·dloss/dθ
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stop(x) as T;
}
