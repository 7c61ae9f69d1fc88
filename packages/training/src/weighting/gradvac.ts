import { MtlError, RandomStream } from '@mtl/core';
import { z } from 'zod';
import type { Aggregator, AggregatorState } from '../aggregator.js';
import { type AggregatorEnv, checkRows, gradientOfOption } from './common.js';
import { axpy, dot, norm, row } from './linalg.js';

/**
 * Gradient Vaccine (Wang et al. 2021, ICLR): like PCGrad, but each pair (i, j) has a target
 * cosine `φ̂_ij`, an exponential moving average (rate `beta`) of the cosines seen so far; when
 * the current cosine falls below the target, `g_i` is moved towards `g_j` until it reaches it.
 * The whole shared gradient is one group (LibMTL's `GradVac_group_type: 0`); the order of `j`
 * is drawn from `ctx.seed`. State: the m×m targets.
 */
export const gradvacOptionsSchema = z
  .strictObject({
    method: z.literal('gradvac'),
    ...gradientOfOption,
    beta: z.number().gt(0).max(1).default(0.01),
  })
  .describe('gradient level: gradient vaccine, EMA cosine targets (GradVac)');

export function createGradvac(
  options: z.output<typeof gradvacOptionsSchema>,
  env: AggregatorEnv,
): Aggregator {
  const m = env.tasks.length;
  let target = Array.from({ length: m }, () => new Array<number>(m).fill(0));
  return {
    name: 'gradvac',
    level: 'gradient',
    gradientOf: options.gradientOf,
    aggregate(J, losses, ctx) {
      checkRows(J, losses, env.tasks, 'gradvac');
      const rng = new RandomStream(ctx.seed);
      const norms = Float64Array.from({ length: m }, (_, j) => norm(row(J, j)));
      const out = new Float64Array(J.cols);
      for (let i = 0; i < m; i++) {
        const pc = Float64Array.from(row(J, i));
        for (const j of rng.permutation(m)) {
          if (j === i) continue;
          const gj = row(J, j);
          const npc = norm(pc);
          const rho = npc > 0 && norms[j]! > 0 ? dot(pc, gj) / npc / norms[j]! : 0;
          const t = target[i]![j]!;
          const sinT = Math.sqrt(Math.max(0, 1 - t * t));
          if (rho < t && sinT > 0 && norms[j]! > 0) {
            const w = (npc * (t * Math.sqrt(Math.max(0, 1 - rho * rho)) - rho * sinT)) / (norms[j]! * sinT);
            axpy(pc, w, gj);
          }
          target[i]![j] = (1 - options.beta) * t + options.beta * rho;
        }
        axpy(out, 1, pc);
      }
      return out;
    },
    getState: () => ({ target: target.map((r) => [...r]) }),
    setState(state: AggregatorState) {
      const t = state.target;
      if (!Array.isArray(t) || t.length !== m || !t.every((r) => Array.isArray(r) && r.length === m)) {
        throw new MtlError('CHECKPOINT_MISMATCH', `gradvac state needs a ${m}×${m} "target" matrix`, {
          place: 'weighting gradvac',
        });
      }
      target = t.map((r) => (r as number[]).map(Number));
    },
  };
}
