import * as tf from '@tensorflow/tfjs';
import { sameShape } from './shapes.js';

/** `x` broadcast to `shape` (no op when it already has that shape). */
export function broadcastTo(x: tf.Tensor, shape: readonly number[]): tf.Tensor {
  return sameShape(x.shape, shape) ? x : tf.broadcastTo(x, [...shape]);
}

/** Moves axis `from` of `x` to position `to` (one transpose, or none when they coincide). */
export function moveAxis(x: tf.Tensor, from: number, to: number): tf.Tensor {
  if (from === to) return x;
  const perm = x.shape.map((_, i) => i);
  perm.splice(from, 1);
  perm.splice(to, 0, from);
  return tf.transpose(x, perm);
}

/**
 * Applies a batch-axis function to one parameter: the parameter is first broadcast to
 * `batchShape ++ (its trailing axes)` so that `fn` sees every batch axis. Returns a new tensor
 * (a clone when `fn` returns its input) so the result can be owned by a new distribution.
 */
export function mapParam(
  param: tf.Tensor,
  batchShape: readonly number[],
  trailing: number,
  fn: (p: tf.Tensor, trailing: number) => tf.Tensor,
): tf.Tensor {
  return tf.tidy(() => {
    const full = broadcastTo(param, [...batchShape, ...param.shape.slice(param.rank - trailing)]);
    const out = fn(full, trailing);
    return out === param ? out.clone() : out;
  });
}
