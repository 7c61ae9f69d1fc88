import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Aggregator } from '../aggregator.js';
import type { AggregatorEnv } from './common.js';

/**
 * Geometric loss strategy (Chennupati et al. 2019): the geometric mean `(Π_t L_t)^{1/m}`,
 * computed as `exp(mean(log L_t))` so that many tasks or large losses do not overflow the
 * product (same value and gradient `GLS/(m·L_t)·∇L_t` for positive losses).
 */
export const glsOptionsSchema = z
  .strictObject({ method: z.literal('gls') })
  .describe('loss level: geometric mean of the task losses (GLS)');

export function createGls(_options: z.output<typeof glsOptionsSchema>, _env: AggregatorEnv): Aggregator {
  return {
    name: 'gls',
    level: 'loss',
    combine: (losses) => tf.exp(tf.mean(tf.log(tf.stack(losses as tf.Scalar[])))) as tf.Scalar,
  };
}
