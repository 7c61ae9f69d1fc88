import * as tf from '@tensorflow/tfjs';

/**
 * `Σ terms` as one recorded op whose gradient hands `dy` to every term. tf.addN (or tf.stack) would
 * clone every term for its gradient, and tf.addN the incoming gradient once per term on the way
 * back: 2T copies for a loss of T tasks. The sum itself is tf.addN's (same value, bit for bit). One
 * term is returned as it is (no op recorded), as the Trainer's one-task steps expect.
 * @example
 * const total = sumScalars([lossA, lossB, lossC]); // the Trainer's objective of three loss parts
 */
export function sumScalars(terms: readonly tf.Scalar[]): tf.Scalar {
  if (terms.length === 1) return terms[0]!;
  const n = terms.length;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
    value: tf.addN(args.slice(0, n) as tf.Scalar[]) as tf.Scalar,
    // Distinct tensors, one per term: the tape may add to or free each term's gradient on its own.
    gradFunc: (dy: tf.Tensor) => tf.unstack(tf.tile(tf.reshape(dy, [1]), [n])),
  }));
  return op(...terms) as tf.Scalar;
}
