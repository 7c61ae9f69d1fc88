import * as tf from '@tensorflow/tfjs';

/**
 * Directions of the scores {@link MultitaskVae.score} writes (true = higher is better), to pass as
 * `higherIsBetter` to @mtl/scoring's `multitaskImprovement`: these metrics are statistics of the
 * model (an ELBO, a KL, a latent covariance), not functions of golds and predictions, so they are
 * computed by the model rather than registered with the scorer.
 * @example
 * multitaskImprovement(mt, solo, { split: 'test', metrics: ['neg_elbo'], higherIsBetter: VAE_METRIC_DIRECTIONS });
 */
export const VAE_METRIC_DIRECTIONS: Readonly<Record<string, boolean>> = {
  recon_mse: false,
  recon_nll: false,
  neg_elbo: false,
  neg_elbo_std_normal: false,
  kl: false,
  kl_std_normal: false,
  active_units: true,
  perplexity: true,
  codes_used: true,
};

/**
 * Active latent units (Burda et al.): dimensions d with Cov_x(E[z_d | x]) > threshold, from the
 * posterior means `[N, D]` of a dataset (population variance over rows).
 * @example
 * activeUnits(tf.tensor2d([[0, 1], [0, -1]]), 0.01);   // 1: only the second dimension varies
 */
export function activeUnits(means: tf.Tensor, threshold = 0.01): number {
  if (means.shape[0]! < 2) return 0;
  const v = tf.tidy(() => tf.moments(means, 0).variance);
  const values = v.dataSync();
  v.dispose();
  let n = 0;
  for (const x of values) if (x > threshold) n++;
  return n;
}

/**
 * Codes that at least one row uses, from one-hot assignments `[N, K]`.
 * @example
 * codesUsed(tf.tensor2d([[1, 0, 0], [1, 0, 0], [0, 0, 1]]));   // 2
 */
export function codesUsed(onehot: tf.Tensor): number {
  const s = tf.tidy(() => tf.sum(onehot, 0));
  const values = s.dataSync();
  s.dispose();
  let n = 0;
  for (const x of values) if (x > 0) n++;
  return n;
}
