import { z } from 'zod';
import type { Aggregator } from '../aggregator.js';
import { type AggregatorEnv, checkRows, gradientOfOption } from './common.js';
import { combineRows, gramian, matVec, pinvPsd, scaled, trace } from './linalg.js';

/**
 * IMTL-G (Liu et al. 2021, "Towards Impartial Multi-task Learning"): weights summing to 1 such
 * that the update has the same projection on every task's unit gradient. As torchjd generalises
 * it to linearly dependent rows: `w ∝ G⁺·diag(G)^½` (then `⟨d, g_i/‖g_i‖⟩` is equal for all i
 * whenever G is invertible); all-zero weights when the sum vanishes.
 */
export const imtlGOptionsSchema = z
  .strictObject({ method: z.literal('imtlG'), ...gradientOfOption })
  .describe('gradient level: equal projection on every unit gradient (IMTL-G)');

export function createImtlG(options: z.output<typeof imtlGOptionsSchema>, env: AggregatorEnv): Aggregator {
  let last: Float64Array | undefined;
  return {
    name: 'imtlG',
    level: 'gradient',
    gradientOf: options.gradientOf,
    aggregate(J, losses) {
      checkRows(J, losses, env.tasks, 'imtlG');
      const raw = gramian(J);
      const t = trace(raw);
      if (!(t > 0)) {
        last = new Float64Array(J.rows);
        return new Float64Array(J.cols);
      }
      // Divided by the trace first: the weights do not depend on the scale, the eigen-cut-off does.
      const G = scaled(raw, t);
      const d = G.map((r, i) => Math.sqrt(Math.max(0, r[i]!)));
      const v = matVec(pinvPsd(G), d);
      const s = v.reduce((a, b) => a + b, 0);
      const w = Math.abs(s) < 1e-12 ? new Float64Array(J.rows) : v.map((x) => x / s);
      last = w;
      return combineRows(J, w);
    },
    lastWeights: () => last,
  };
}
