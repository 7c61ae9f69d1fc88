import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Aggregator } from '../aggregator.js';
import { type AggregatorEnv, sumScalars } from './common.js';

/** Equal weighting (EW): the mean of the task losses, so its gradient is the mean gradient. */
export const equalOptionsSchema = z
  .strictObject({ method: z.literal('equal') })
  .describe('loss level: mean of the task losses (EW)');

export function createEqual(_options: z.output<typeof equalOptionsSchema>, env: AggregatorEnv): Aggregator {
  const m = env.tasks.length;
  const weights = new Float64Array(m).fill(1 / m);
  return {
    name: 'equal',
    level: 'loss',
    combine: (losses) => tf.div(sumScalars(losses), m),
    lastWeights: () => weights,
  };
}
