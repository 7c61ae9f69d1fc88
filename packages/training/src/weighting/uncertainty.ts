import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Aggregator, AggregatorState } from '../aggregator.js';
import { type AggregatorEnv, checkAllTasks, sumScalars } from './common.js';

/**
 * Uncertainty weighting (Kendall, Gal & Cipolla 2018): a learnable log-variance `s_t` per task,
 * objective `Σ_t ½e^{−s_t}·L_t + ½s_t` (LibMTL's form); the `s_t` are trainable variables that
 * the Trainer's optimizer updates with the model. `init` is the starting log-variance.
 */
export const uncertaintyOptionsSchema = z
  .strictObject({
    method: z.literal('uncertainty'),
    init: z.number().min(-20).max(20).default(0),
  })
  .describe('loss level: Kendall et al. uncertainty weighting, learnable log-variances (UW)');

export function createUncertainty(
  options: z.output<typeof uncertaintyOptionsSchema>,
  env: AggregatorEnv,
): Aggregator {
  const m = env.tasks.length;
  // tidy frees the fill; a variable outlives it.
  const logVar = tf.tidy(() => tf.variable(tf.fill([m], options.init), true, undefined, 'float32'));
  return {
    name: 'uncertainty',
    level: 'loss',
    combine(losses, ctx) {
      checkAllTasks(ctx, env.tasks, 'uncertainty');
      const s = tf.unstack(logVar) as tf.Scalar[];
      return sumScalars(
        losses.map(
          (l, t) => tf.add(tf.mul(tf.mul(tf.exp(tf.neg(s[t]!)), 0.5), l), tf.mul(s[t]!, 0.5)) as tf.Scalar,
        ),
      );
    },
    trainableVariables: () => [logVar],
    lastWeights: () => Float64Array.from(logVar.dataSync(), (s) => 0.5 * Math.exp(-s)),
    getState: () => ({ logVariance: Array.from(logVar.dataSync()) }),
    setState(state: AggregatorState) {
      const v = state.logVariance;
      if (!Array.isArray(v) || v.length !== m || !v.every(Number.isFinite)) {
        throw new MtlError(
          'CHECKPOINT_MISMATCH',
          `uncertainty state needs ${m} finite "logVariance" values`,
          {
            place: 'weighting uncertainty',
          },
        );
      }
      tf.tidy(() => logVar.assign(tf.tensor1d(v as number[], 'float32')));
    },
    dispose: () => logVar.dispose(),
  };
}
