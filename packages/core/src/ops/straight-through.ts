import * as tf from '@tensorflow/tfjs';

// Forward: the quantised value; backward: the gradient goes to the continuous input unchanged and
// nothing reaches the quantised one (a VQ codebook learns from its own loss term instead).
const straight = tf.customGrad((_ze, zq) => ({
  value: (zq as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor) => [dy.clone(), tf.zerosLike(dy)],
}));

/**
 * The straight-through estimator: the value of `zq`, the gradient of the identity on `ze` (and none
 * to `zq`). `ze` and `zq` have one shape.
 * @example
 * const z = straightThrough(encoded, quantized); // decodes e_k; the decoder's gradient reaches the encoder
 */
export function straightThrough<T extends tf.Tensor>(ze: T, zq: T): T {
  return straight(ze, zq) as T;
}
