import { z } from 'zod';
import type { Aggregator } from '../aggregator.js';
import { type AggregatorEnv, checkRows, gradientOfOption } from './common.js';
import { combineRows, gramian, norm, row } from './linalg.js';
import { minNormSimplex } from './qp.js';

/**
 * MGDA (Sener & Koltun 2018, "Multi-Task Learning as Multi-Objective Optimization"): the
 * least-norm point of the convex hull of the tasks' gradients, found exactly by quadprog. With
 * `gradientOf: 'representation'` it is MGDA-UB (the paper's upper bound, gradients of the shared
 * representation). `normalize` is the paper's gradient normalisation (LibMTL's `mgda_gn`):
 * each row is divided by its norm (`l2`), its loss (`loss`) or both (`loss+`) before the hull.
 */
export const mgdaOptionsSchema = z
  .strictObject({
    method: z.literal('mgda'),
    ...gradientOfOption,
    normalize: z.enum(['none', 'l2', 'loss', 'loss+']).default('none'),
    /** Added to the diagonal of the trace-normalised Gram matrix so quadprog's Cholesky succeeds. */
    regEps: z.number().min(0).max(1e-2).default(1e-10),
  })
  .describe(
    "gradient level: min-norm point of the gradients' convex hull (MGDA; MGDA-UB with gradientOf=representation)",
  );

/**
 * MGDA-UB (Sener & Koltun 2018, section 3.3): MGDA on the gradients of the shared representation,
 * one backward pass through the trunk per step instead of one per task. The same options as `mgda`,
 * with `gradientOf` defaulting to `representation` (the model must expose its representation:
 * `MultitaskModel` does when its tasks share a trunk).
 */
export const mgdaUbOptionsSchema = z
  .strictObject({
    ...mgdaOptionsSchema.shape,
    method: z.literal('mgdaUb'),
    gradientOf: z.enum(['parameters', 'representation']).default('representation'),
  })
  .describe('gradient level: MGDA on the gradients of the shared representation (MGDA-UB)');

export function createMgda(
  options: z.output<typeof mgdaOptionsSchema> | z.output<typeof mgdaUbOptionsSchema>,
  env: AggregatorEnv,
): Aggregator {
  let last: Float64Array | undefined;
  const name = options.method;
  return {
    name,
    level: 'gradient',
    gradientOf: options.gradientOf,
    aggregate(J, losses) {
      checkRows(J, losses, env.tasks, name);
      const scale = Float64Array.from({ length: J.rows }, (_, i) => {
        const n = options.normalize === 'l2' || options.normalize === 'loss+' ? norm(row(J, i)) : 1;
        const l = options.normalize === 'loss' || options.normalize === 'loss+' ? losses[i]! : 1;
        const s = n * l;
        return s > 0 && Number.isFinite(s) ? 1 / s : 0;
      });
      const G = gramian(J);
      for (let i = 0; i < J.rows; i++) for (let j = 0; j < J.rows; j++) G[i]![j]! *= scale[i]! * scale[j]!;
      const w = minNormSimplex(G, options.regEps);
      // The weights on the rows as given (normalisation folded in), so Jᵀ·lastWeights is the update.
      last = w.map((x, i) => x * scale[i]!);
      return combineRows(J, last);
    },
    lastWeights: () => last,
  };
}
