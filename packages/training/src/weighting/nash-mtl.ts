import { MtlError } from '@mtl/core';
import { z } from 'zod';
import type { Aggregator, AggregatorState } from '../aggregator.js';
import { type AggregatorEnv, checkRows, gradientOfOption } from './common.js';
import { combineRows, gramian, matVec, solveSpd } from './linalg.js';

/**
 * Nash-MTL (Navon et al. 2022, "Multi-Task Learning as a Bargaining Game"): weights α > 0 with
 * `(Gα)_i = 1/α_i`, the Nash bargaining solution; update `Jᵀα`. The peers approximate it by a
 * few sequential convex programs (cvxpy); here it is solved exactly as the minimiser of the
 * strictly convex `½αᵀGα − Σ log α_i` by damped Newton (Hessian `G + diag(1/α²)`), on the Gram
 * matrix of the unit gradients plus `regEps` (so dependent gradients keep a finite minimiser),
 * then scaled back: the weights do not collapse when losses are 1e-4 or 1e4.
 * `updateWeightsEvery` reuses the last weights in between (the paper's speed-up).
 */
export const nashMtlOptionsSchema = z
  .strictObject({
    method: z.literal('nashMtl'),
    ...gradientOfOption,
    updateWeightsEvery: z.number().int().min(1).default(1),
    regEps: z.number().gt(0).max(1e-2).default(1e-8),
  })
  .describe('gradient level: Nash bargaining weights, exact Newton (Nash-MTL)');

/**
 * argmin over α > 0 of `½αᵀGα − Σ log α` for a positive-definite G. The function is
 * self-concordant (a quadratic plus a log barrier), so Newton's method damped by `1/(1 + λ)`, λ the
 * Newton decrement, converges from any start without evaluating f (Nesterov 2004, §4.1.5): no
 * line search whose comparisons rounding could stop early in flat directions.
 */
export function nashWeights(G: readonly Float64Array[]): Float64Array {
  const m = G.length;
  let a = Float64Array.from({ length: m }, (_, i) => 1 / Math.sqrt(G[i]![i]!));
  for (let it = 0; it < 500; it++) {
    const Ga = matVec(G, a);
    const grad = a.map((x, i) => Ga[i]! - 1 / x);
    const H = G.map((r, i) => r.map((v, j) => v + (i === j ? 1 / (a[i]! * a[i]!) : 0)));
    const dir = solveSpd(H, grad);
    if (dir === undefined) break;
    const lambda = Math.sqrt(
      Math.max(
        0,
        dir.reduce((s, x, i) => s + x * grad[i]!, 0),
      ),
    );
    if (!(lambda > 1e-13)) break;
    // A damped step stays inside α > 0: the Dikin ellipsoid of the barrier has radius 1.
    const t = lambda > 0.25 ? 1 / (1 + lambda) : 1;
    a = a.map((x, i) => x - t * dir[i]!);
    if (!a.every((x) => x > 0)) throw new RangeError('nashMtl: Newton left the positive orthant');
  }
  return a;
}

export function createNashMtl(
  options: z.output<typeof nashMtlOptionsSchema>,
  env: AggregatorEnv,
): Aggregator {
  const m = env.tasks.length;
  let alpha: Float64Array | undefined;
  let calls = 0;
  return {
    name: 'nashMtl',
    level: 'gradient',
    gradientOf: options.gradientOf,
    aggregate(J, losses) {
      checkRows(J, losses, env.tasks, 'nashMtl');
      if (alpha === undefined || calls % options.updateWeightsEvery === 0) {
        // (Gα)_i = 1/α_i is unchanged by rescaling the rows (β = ‖g‖α solves it for the unit
        // rows), so it is solved on the unit-row Gram matrix: regEps then biases every task by
        // the same 1e-8 relative, whatever its gradient's size; zero rows get weight 0.
        const G = gramian(J);
        const n = G.map((r, i) => Math.sqrt(Math.max(0, r[i]!)));
        const live = [...n.keys()].filter((i) => n[i]! > 0 && Number.isFinite(n[i]!));
        const Gu = live.map((i) =>
          Float64Array.from(live, (j) => G[i]![j]! / n[i]! / n[j]! + (i === j ? options.regEps : 0)),
        );
        const beta = live.length > 0 ? nashWeights(Gu) : new Float64Array(0);
        alpha = new Float64Array(m);
        live.forEach((i, k) => {
          alpha![i] = beta[k]! / n[i]!;
        });
      }
      calls += 1;
      return combineRows(J, alpha);
    },
    lastWeights: () => alpha,
    getState: () => ({ calls, alpha: alpha === undefined ? null : [...alpha] }),
    setState(state: AggregatorState) {
      const a = state.alpha;
      if (!Number.isInteger(state.calls) || !(a === null || (Array.isArray(a) && a.length === m))) {
        throw new MtlError('CHECKPOINT_MISMATCH', `nashMtl state needs "calls" and ${m} "alpha" values`, {
          place: 'weighting nashMtl',
        });
      }
      calls = state.calls as number;
      alpha = a === null ? undefined : Float64Array.from(a as number[]);
    },
  };
}
