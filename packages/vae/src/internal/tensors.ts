import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';

// tfjs has no stop-gradient op: an identity whose gradient is zero does the job.
const stop = tf.customGrad((x) => ({
  value: (x as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
}));

/** The values of `x`, cut from the gradient. */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return stop(x) as T;
}

// Forward: the quantised vector; backward: the gradient goes to the encoder output unchanged and
// nothing reaches the codebook through the decoder (it learns from its own loss term).
const straight = tf.customGrad((_ze, zq) => ({
  value: (zq as tf.Tensor).clone(),
  gradFunc: (dy: tf.Tensor) => [dy.clone(), tf.zerosLike(dy)],
}));

/** Straight-through estimator: the value of `zq`, the gradient of the identity on `ze`. */
export function straightThrough(ze: tf.Tensor, zq: tf.Tensor): tf.Tensor {
  return straight(ze, zq) as tf.Tensor;
}

/** Applies a [in, out] kernel to the last axis of `x` (any rank >= 1). */
export function linear(
  x: tf.Tensor,
  kernel: tf.Tensor,
  bias: tf.Tensor | undefined,
  place: string,
): tf.Tensor {
  const inSize = kernel.shape[0]!;
  if (x.shape[x.shape.length - 1] !== inSize) {
    throw new MtlError(
      'DATA_SHAPE_MISMATCH',
      `expects inputs whose last axis has ${inSize} values, got shape [${x.shape}]`,
      { place },
    );
  }
  let y: tf.Tensor;
  if (x.rank === 2) y = tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D);
  else {
    const lead = x.shape.slice(0, -1);
    const flat = tf.reshape(x, [-1, inSize]) as tf.Tensor2D;
    y = tf.reshape(tf.matMul(flat, kernel as tf.Tensor2D), [...lead, kernel.shape[1]!]);
  }
  return bias === undefined ? y : tf.add(y, bias);
}

/** One input, or several concatenated along the last axis. */
export function singleInput(inputs: readonly tf.Tensor[], place: string): tf.Tensor {
  if (inputs.length === 0) throw new MtlError('INVALID_ARGUMENT', 'received no input', { place });
  return inputs.length === 1 ? inputs[0]! : tf.concat([...inputs], -1);
}
