import { z } from 'zod';
import type { Aggregator } from '../aggregator.js';
import {
  type AggregatorEnv,
  checkRows,
  gradientOfOption,
  preferenceOption,
  preferenceVector,
} from './common.js';
import { combineRows, gramian } from './linalg.js';
import { projectWeights } from './qp.js';

/**
 * UPGrad (Quinton & Rey 2024, "Jacobian Descent for Multi-Objective Optimization"): every
 * task's gradient is projected onto the dual cone of all of them, and the projections are
 * combined with the preference (mean by default): non-conflicting, linear under scaling. Each
 * projection is a quadratic program in the m weights (quadprog); with `preference: 'sum'` and two
 * tasks it equals PCGrad.
 */
export const upgradOptionsSchema = z
  .strictObject({
    method: z.literal('upgrad'),
    ...gradientOfOption,
    preference: preferenceOption,
  })
  .describe('gradient level: each gradient projected onto the dual cone, averaged (UPGrad)');

export function createUpgrad(options: z.output<typeof upgradOptionsSchema>, env: AggregatorEnv): Aggregator {
  let last: Float64Array | undefined;
  return {
    name: 'upgrad',
    level: 'gradient',
    gradientOf: options.gradientOf,
    aggregate(J, losses) {
      checkRows(J, losses, env.tasks, 'upgrad');
      const m = J.rows;
      const pref = preferenceVector(options.preference, m, 'upgrad');
      const G = gramian(J);
      const w = new Float64Array(m);
      for (let i = 0; i < m; i++) {
        if (pref[i] === 0) continue;
        const e = new Float64Array(m);
        e[i] = 1;
        const v = projectWeights(e, G);
        for (let k = 0; k < m; k++) w[k]! += pref[i]! * v[k]!;
      }
      last = w;
      return combineRows(J, w);
    },
    lastWeights: () => last,
  };
}
