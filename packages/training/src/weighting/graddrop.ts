import { RandomStream } from '@mtl/core';
import { z } from 'zod';
import type { Aggregator } from '../aggregator.js';
import { type AggregatorEnv, checkRows, gradientOfOption } from './common.js';
import { row } from './linalg.js';

/**
 * GradDrop (Chen et al. 2020, "Just Pick a Sign", Algorithm 1 lines 10-15): per value, the
 * positive-sign purity `P = ½(1 + Σg / Σ|g|)`; one uniform draw `U` per value (from `ctx.seed`)
 * keeps the positive gradients where `P > U` and the negative ones where `P < U`; `leak` lets
 * a fraction of every gradient through regardless. The paper applies it to the gradient of the
 * shared representation, hence `gradientOf: 'representation'` is worth choosing when the trunk
 * exposes it; the default stays `parameters` like every method here.
 */
export const graddropOptionsSchema = z
  .strictObject({
    method: z.literal('graddrop'),
    ...gradientOfOption,
    leak: z.union([z.number().min(0).max(1), z.array(z.number().min(0).max(1)).min(1)]).default(0),
  })
  .describe('gradient level: sign-purity gradient dropout, seeded (GradDrop)');

export function createGraddrop(
  options: z.output<typeof graddropOptionsSchema>,
  env: AggregatorEnv,
): Aggregator {
  const leakOf = (i: number) => (typeof options.leak === 'number' ? options.leak : options.leak[i]!);
  return {
    name: 'graddrop',
    level: 'gradient',
    gradientOf: options.gradientOf,
    aggregate(J, losses, ctx) {
      checkRows(J, losses, env.tasks, 'graddrop');
      const n = J.cols;
      const sum = new Float64Array(n);
      const abs = new Float64Array(n);
      for (let i = 0; i < J.rows; i++) {
        const g = row(J, i);
        for (let k = 0; k < n; k++) {
          sum[k]! += g[k]!;
          abs[k]! += Math.abs(g[k]!);
        }
      }
      const rng = new RandomStream(ctx.seed);
      const u = Float64Array.from({ length: n }, () => rng.next());
      const out = new Float64Array(n);
      for (let i = 0; i < J.rows; i++) {
        const g = row(J, i);
        const leak = leakOf(i);
        for (let k = 0; k < n; k++) {
          const p = abs[k]! > 0 ? 0.5 * (1 + sum[k]! / abs[k]!) : 0.5;
          const keep = (p > u[k]! && g[k]! > 0) || (p < u[k]! && g[k]! < 0) ? 1 : 0;
          out[k]! += (leak + (1 - leak) * keep) * g[k]!;
        }
      }
      return out;
    },
  };
}
