import { z } from 'zod';
import type { Aggregator } from '../aggregator.js';
import { type AggregatorEnv, checkRows, gradientOfOption } from './common.js';
import { combineRows, gramian, matVec, projectSimplex, scaled, trace } from './linalg.js';

/**
 * CAGrad (Liu et al. 2021, "Conflict-Averse Gradient Descent", Algorithm 1): the update stays in
 * a ball of radius `c·‖g₀‖` around the mean gradient `g₀` and maximises the worst task's
 * improvement. Its dual, `min_{w ∈ simplex} g_wᵀg₀ + c‖g₀‖·‖g_w‖`, is convex but not a quadratic
 * program (the peers call scipy's SLSQP or cvxpy), so it is solved here by projected gradient
 * descent with Armijo backtracking on the simplex — m is small, the Gram matrix is divided by
 * its trace (scale-free), and no JS package solves simplex-constrained non-quadratic programs.
 * Update `g₀ + (c‖g₀‖/‖g_w‖)·g_w`, divided by `1 + c²` when `rescale` (the paper's default).
 */
export const cagradOptionsSchema = z
  .strictObject({
    method: z.literal('cagrad'),
    ...gradientOfOption,
    c: z.number().min(0).default(0.5),
    rescale: z.boolean().default(true),
  })
  .describe('gradient level: conflict-averse gradient in a ball around the mean (CAGrad)');

function objective(G: readonly Float64Array[], b: Float64Array, k: number, w: Float64Array): number {
  const Gw = matVec(G, w);
  let lin = 0;
  let quad = 0;
  for (let i = 0; i < w.length; i++) {
    lin += b[i]! * w[i]!;
    quad += w[i]! * Gw[i]!;
  }
  return lin + k * Math.sqrt(Math.max(0, quad));
}

/** argmin over the simplex of `bᵀw + k·√(wᵀGw)`. */
export function cagradDual(G: readonly Float64Array[], b: Float64Array, k: number): Float64Array {
  const m = G.length;
  let w: Float64Array = new Float64Array(m).fill(1 / m);
  let f = objective(G, b, k, w);
  let step = 1;
  for (let it = 0; it < 1000; it++) {
    const Gw = matVec(G, w);
    const q = Math.sqrt(
      Math.max(
        0,
        w.reduce((s, x, i) => s + x * Gw[i]!, 0),
      ),
    );
    // Where ‖g_w‖ = 0 the norm has no gradient; its subgradient 0 is a valid choice.
    const grad = b.map((bi, i) => bi + (q > 0 ? (k * Gw[i]!) / q : 0));
    let moved = false;
    step = Math.min(step * 2, 1e6);
    while (step > 1e-14) {
      const next = projectSimplex(w.map((x, i) => x - step * grad[i]!));
      const fNext = objective(G, b, k, next);
      let decrease = 0;
      for (let i = 0; i < m; i++) decrease += grad[i]! * (w[i]! - next[i]!);
      if (fNext <= f - 0.5 * decrease || fNext < f) {
        const change = next.reduce((s, x, i) => Math.max(s, Math.abs(x - w[i]!)), 0);
        w = next;
        f = Math.min(f, fNext);
        moved = change > 1e-13;
        break;
      }
      step /= 2;
    }
    if (!moved) break;
  }
  return w;
}

export function createCagrad(options: z.output<typeof cagradOptionsSchema>, env: AggregatorEnv): Aggregator {
  let last: Float64Array | undefined;
  return {
    name: 'cagrad',
    level: 'gradient',
    gradientOf: options.gradientOf,
    aggregate(J, losses) {
      checkRows(J, losses, env.tasks, 'cagrad');
      const m = J.rows;
      const raw = gramian(J);
      const t = trace(raw);
      const weights = new Float64Array(m).fill(1 / m);
      if (t > 0 && options.c > 0) {
        const G = scaled(raw, t);
        const b = matVec(G, weights); // G·(1/m) = J g₀ in the normalised units
        const g0norm = Math.sqrt(Math.max(0, b.reduce((s, x) => s + x, 0) / m));
        const k = options.c * g0norm;
        const w = cagradDual(G, b, k);
        const Gw = matVec(G, w);
        const gwNorm = Math.sqrt(
          Math.max(
            0,
            w.reduce((s, x, i) => s + x * Gw[i]!, 0),
          ),
        );
        // ‖g_w‖ = 0: zero is in the hull (Pareto-stationary); the ball term has no direction.
        if (gwNorm > 1e-12) for (let i = 0; i < m; i++) weights[i]! += (k / gwNorm) * w[i]!;
      }
      if (options.rescale) for (let i = 0; i < m; i++) weights[i]! /= 1 + options.c * options.c;
      last = weights;
      return combineRows(J, weights);
    },
    lastWeights: () => last,
  };
}
