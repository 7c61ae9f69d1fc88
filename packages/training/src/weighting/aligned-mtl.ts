import { z } from 'zod';
import type { Aggregator } from '../aggregator.js';
import {
  type AggregatorEnv,
  checkRows,
  gradientOfOption,
  preferenceOption,
  preferenceVector,
} from './common.js';
import { combineRows, gramian, symmetricEigen } from './linalg.js';

/**
 * Aligned-MTL (Senushkin et al. 2023, "Independent Component Alignment for Multi-Task
 * Learning", Algorithm 1): the gradients are made orthogonal and of equal size by the balance
 * transformation `B = σ·V Λ^{-½} Vᵀ` of the Gram matrix (eigenvalues below `λ_max·m·ε` are
 * dropped, so the condition number of the aligned system is 1); weights `B·preference`.
 * `scaleMode` picks σ² among the kept eigenvalues: the smallest (paper), median, or mean.
 */
export const alignedMtlOptionsSchema = z
  .strictObject({
    method: z.literal('alignedMtl'),
    ...gradientOfOption,
    preference: preferenceOption,
    scaleMode: z.enum(['min', 'median', 'rmse']).default('min'),
  })
  .describe('gradient level: aligned, equal-size components of the Gram matrix (Aligned-MTL)');

export function createAlignedMtl(
  options: z.output<typeof alignedMtlOptionsSchema>,
  env: AggregatorEnv,
): Aggregator {
  let last: Float64Array | undefined;
  return {
    name: 'alignedMtl',
    level: 'gradient',
    gradientOf: options.gradientOf,
    aggregate(J, losses) {
      checkRows(J, losses, env.tasks, 'alignedMtl');
      const m = J.rows;
      const pref = preferenceVector(options.preference, m, 'alignedMtl');
      const { values, vectors } = symmetricEigen(gramian(J));
      const max = Math.max(0, ...values);
      const kept = [...values.keys()].filter((k) => values[k]! > max * m * Number.EPSILON);
      const w = new Float64Array(m);
      if (kept.length > 0) {
        const lambdas = kept.map((k) => values[k]!).sort((a, b) => a - b);
        const sigma2 =
          options.scaleMode === 'min'
            ? lambdas[0]!
            : options.scaleMode === 'median'
              ? lambdas[Math.floor((lambdas.length - 1) / 2)]!
              : lambdas.reduce((a, b) => a + b, 0) / lambdas.length;
        // B·p = Σ_k √(σ²/λ_k) · v_k (v_kᵀ p): the ratio keeps the weights free of the scale.
        for (const k of kept) {
          const v = vectors[k]!;
          const c = Math.sqrt(sigma2 / values[k]!) * v.reduce((s, x, i) => s + x * pref[i]!, 0);
          for (let i = 0; i < m; i++) w[i]! += c * v[i]!;
        }
      }
      last = w;
      return combineRows(J, w);
    },
    lastWeights: () => last,
  };
}
