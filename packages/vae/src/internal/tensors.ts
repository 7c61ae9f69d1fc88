import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';

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
