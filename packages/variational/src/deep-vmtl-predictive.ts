import * as tf from '@tensorflow/tfjs';

/**
 * What {@link DeepVmtlModel.predict} returns (tensors the caller disposes).
 * @example
 * const { probs, entropy } = model.predict('a', x);
 */
export interface DeepVmtlPrediction {
  /** Classification: predictive class probabilities `[B, K]`. */
  probs?: tf.Tensor2D;
  /** Classification: entropy of the predictive per row `[B]` (nats). */
  entropy?: tf.Tensor1D;
  /** Regression: predictive mean `[B]`. */
  mean?: tf.Tensor1D;
  /** Regression: predictive variance `[B]` (the draws' spread plus noiseScale²). */
  variance?: tf.Tensor1D;
}

/** `[..., D]` → `[..., D + 1]` with a last column of ones (the bias input). */
export function withOnes(z: tf.Tensor): tf.Tensor {
  return tf.concat([z, tf.ones([...z.shape.slice(0, -1), 1])], -1);
}

/** `n` draws loc + exp(logScale)·ε, shape `[n, ...loc.shape]`. */
export function reparam(loc: tf.Tensor, logScale: tf.Tensor, n: number, seed: number): tf.Tensor {
  const eps = tf.randomNormal([n, ...loc.shape], 0, 1, 'float32', seed);
  return tf.add(loc, tf.mul(tf.exp(logScale), eps));
}

/**
 * log p(y | z, w) per row, averaged over the L × M draws: z `[L, B, D]`, w `[M, D + 1, K]` (the
 * bias as last row); categorical (softmax) or, with `noiseScale`, normal (regression, K = 1).
 * @example
 * drawLogLikelihood(z, w, y); // [B]
 */
export function drawLogLikelihood(z: tf.Tensor, w: tf.Tensor, y: tf.Tensor, noiseScale?: number): tf.Tensor {
  const [L, B, D] = z.shape as [number, number, number];
  const [M, , K] = w.shape as [number, number, number];
  const zf = withOnes(tf.reshape(z, [L * B, D]));
  const wf = tf.reshape(tf.transpose(w, [1, 0, 2]), [D + 1, M * K]);
  const out = tf.reshape(tf.matMul(zf as tf.Tensor2D, wf as tf.Tensor2D), [L, B, M, K]);
  if (noiseScale !== undefined) {
    const err = tf.sub(tf.squeeze(out, [3]), tf.reshape(tf.cast(y, 'float32'), [1, B, 1]));
    const s = noiseScale;
    const lp = tf.sub(tf.mul(-0.5 / (s * s), tf.square(err)), Math.log(s) + 0.5 * Math.log(2 * Math.PI));
    return tf.mean(lp, [0, 2]);
  }
  const onehot = tf.reshape(tf.oneHot(tf.cast(y, 'int32'), K), [1, B, 1, K]);
  return tf.mean(tf.sum(tf.mul(tf.logSoftmax(out), onehot), 3), [0, 2]);
}

/**
 * The predictive from S joint draws of the outputs `[S, B, K]`: the mean of the softmaxes and its
 * entropy, or (with `noiseScale`, regression) the draws' mean and spread plus noiseScale².
 * @example
 * const { probs, entropy } = predictiveOf(outputs);
 */
export function predictiveOf(out: tf.Tensor, noiseScale?: number): DeepVmtlPrediction {
  if (noiseScale !== undefined) {
    const values = tf.squeeze(out, [2]);
    const mean = tf.mean(values, 0);
    const variance = tf.add(tf.mean(tf.square(tf.sub(values, mean)), 0), noiseScale ** 2);
    return { mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D };
  }
  const probs = tf.mean(tf.softmax(out), 0);
  const entropy = tf.neg(tf.sum(tf.mul(probs, tf.log(tf.maximum(probs, 1e-12))), 1));
  return { probs: probs as tf.Tensor2D, entropy: entropy as tf.Tensor1D };
}

/**
 * Sums over the rows of a predictive against labels `y`: `[correct, −Σ log p(y)]` for classes
 * (K of them), or `[Σ squared error, −Σ log N(y; mean, variance)]` for a regression.
 * @example
 * const [hits, nll] = predictionSums(p, y, 10);
 */
export function predictionSums(
  p: DeepVmtlPrediction,
  y: tf.Tensor,
  numClasses: number,
): [tf.Tensor, tf.Tensor] {
  if (p.mean !== undefined) {
    const err = tf.sub(p.mean, tf.cast(y, 'float32'));
    const lp = tf.mul(
      -0.5,
      tf.add(tf.div(tf.square(err), p.variance!), tf.log(tf.mul(2 * Math.PI, p.variance!))),
    );
    return [tf.sum(tf.square(err)), tf.neg(tf.sum(lp))];
  }
  const yi = tf.cast(y, 'int32');
  const hit = tf.sum(tf.cast(tf.equal(tf.argMax(p.probs!, 1), yi), 'float32'));
  const py = tf.sum(tf.mul(p.probs!, tf.oneHot(yi, numClasses)), 1);
  return [hit, tf.neg(tf.sum(tf.log(tf.maximum(py, 1e-12))))];
}
