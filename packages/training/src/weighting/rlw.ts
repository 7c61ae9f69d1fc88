import { RandomStream } from '@mtl/core';
import { z } from 'zod';
import type { Aggregator } from '../aggregator.js';
import { type AggregatorEnv, checkAllTasks, weightedLossSum } from './common.js';

/**
 * Random loss weighting (Lin et al. 2022, "Reasonable Effectiveness of Random Weighting"):
 * every step draws `w = softmax(z)`, `z ~ N(0, 1)^m`, from the step's seed (`ctx.seed`), so a
 * run is reproducible; objective `Σ_t w_t·L_t`.
 */
export const rlwOptionsSchema = z
  .strictObject({ method: z.literal('rlw') })
  .describe('loss level: random softmax-normal weights each step, seeded (RLW)');

export function rlwWeights(seed: number, m: number): Float64Array {
  const rng = new RandomStream(seed);
  const z = Float64Array.from({ length: m }, () => rng.normal());
  const max = Math.max(...z);
  const e = z.map((x) => Math.exp(x - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

export function createRlw(_options: z.output<typeof rlwOptionsSchema>, env: AggregatorEnv): Aggregator {
  let last: Float64Array | undefined;
  return {
    name: 'rlw',
    level: 'loss',
    combine(losses, ctx) {
      checkAllTasks(ctx, env.tasks, 'rlw');
      last = rlwWeights(ctx.seed, env.tasks.length);
      return weightedLossSum(losses, last);
    },
    lastWeights: () => last,
  };
}
