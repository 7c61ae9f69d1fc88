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
 * DualProj (torchjd; Lopez-Paz & Ranzato 2017, GEM, Eq. 11): the preference-weighted average of
 * the gradients projected onto their dual cone `{x : ⟨g_i, x⟩ ≥ 0 ∀i}`, so no task's loss rises
 * to first order. The projection is a quadratic program in the m weights (quadprog).
 */
export const dualProjOptionsSchema = z
  .strictObject({
    method: z.literal('dualProj'),
    ...gradientOfOption,
    preference: preferenceOption,
  })
  .describe('gradient level: mean projected onto the dual cone (DualProj)');

export function createDualProj(
  options: z.output<typeof dualProjOptionsSchema>,
  env: AggregatorEnv,
): Aggregator {
  let last: Float64Array | undefined;
  return {
    name: 'dualProj',
    level: 'gradient',
    gradientOf: options.gradientOf,
    aggregate(J, losses) {
      checkRows(J, losses, env.tasks, 'dualProj');
      const w = projectWeights(preferenceVector(options.preference, J.rows, 'dualProj'), gramian(J));
      last = w;
      return combineRows(J, w);
    },
    lastWeights: () => last,
  };
}
