import { RandomStream } from '@mtl/core';
import { z } from 'zod';
import type { Aggregator } from '../aggregator.js';
import { type AggregatorEnv, checkRows, gradientOfOption } from './common.js';
import { combineRows, gramian } from './linalg.js';

/**
 * PCGrad (Yu et al. 2020, "Gradient Surgery for Multi-Task Learning"): each task's gradient is
 * projected, in a random order of the other tasks, onto the normal plane of every gradient it
 * conflicts with (negative inner product); the update is the sum. The order is drawn from
 * `ctx.seed`, so a run is reproducible. Worked in weight space on the Gram matrix (as torchjd):
 * the projected row is `Jᵀc` and every inner product is `(Gc)_j`, O(m³) after the Gram matrix.
 */
export const pcgradOptionsSchema = z
  .strictObject({ method: z.literal('pcgrad'), ...gradientOfOption })
  .describe('gradient level: projects conflicting gradients, seeded order (PCGrad)');

export function createPcgrad(options: z.output<typeof pcgradOptionsSchema>, env: AggregatorEnv): Aggregator {
  let last: Float64Array | undefined;
  return {
    name: 'pcgrad',
    level: 'gradient',
    gradientOf: options.gradientOf,
    aggregate(J, losses, ctx) {
      checkRows(J, losses, env.tasks, 'pcgrad');
      const m = J.rows;
      const G = gramian(J);
      const rng = new RandomStream(ctx.seed);
      const weights = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        const c = new Float64Array(m);
        c[i] = 1;
        for (const j of rng.permutation(m)) {
          if (j === i || !(G[j]![j]! > 0)) continue;
          let inner = 0;
          for (let k = 0; k < m; k++) inner += G[j]![k]! * c[k]!;
          if (inner < 0) c[j]! -= inner / G[j]![j]!;
        }
        for (let k = 0; k < m; k++) weights[k]! += c[k]!;
      }
      last = weights;
      return combineRows(J, weights);
    },
    lastWeights: () => last,
  };
}
