import { MtlError } from '@mtl/core';
import { z } from 'zod';
import type { Aggregator, AggregatorState } from '../aggregator.js';
import { type AggregatorEnv, checkRows, gradientOfOption, HostAdam } from './common.js';
import { combineRows, norm, row } from './linalg.js';

/**
 * GradNorm (Chen et al. 2018): learnable task weights `w = m·softmax(s)` (LibMTL's
 * parametrisation: positive, summing to m) move so that each weighted gradient norm `w_i‖g_i‖`
 * approaches `mean_j(w_j‖g_j‖) · r_i^alpha`, `r_i` the task's loss ratio `L_i/L_i(0)` over the
 * mean ratio (a task that trains slower gets a larger target). The step's update is `Σ w_i g_i`
 * with the weights before the move; `s` then takes one Adam step (`lr`) on the L1 gap
 * `Σ|w_i‖g_i‖ − target_i|`, target held constant, on the host from the Jacobian's row norms.
 * State: the logits, Adam's moments and the first step's losses.
 */
export const gradnormOptionsSchema = z
  .strictObject({
    method: z.literal('gradnorm'),
    ...gradientOfOption,
    alpha: z.number().min(0).default(1.5),
    lr: z.number().gt(0).default(0.025),
  })
  .describe('gradient level: learnable weights balancing gradient norms by training rate (GradNorm)');

export function createGradnorm(
  options: z.output<typeof gradnormOptionsSchema>,
  env: AggregatorEnv,
): Aggregator {
  const m = env.tasks.length;
  let logits = new Array<number>(m).fill(0);
  let adam = new HostAdam(m, options.lr, 0);
  let initial: number[] | null = null;
  let last: Float64Array | undefined;
  const weights = () => {
    const max = Math.max(...logits);
    const e = logits.map((x) => Math.exp(x - max));
    const s = e.reduce((a, b) => a + b, 0);
    return Float64Array.from(e, (x) => (m * x) / s);
  };
  return {
    name: 'gradnorm',
    level: 'gradient',
    gradientOf: options.gradientOf,
    aggregate(J, losses) {
      checkRows(J, losses, env.tasks, 'gradnorm');
      initial ??= [...losses];
      const w = weights();
      const update = combineRows(J, w);
      const norms = Float64Array.from({ length: m }, (_, i) => norm(row(J, i)));
      const ratio = Float64Array.from({ length: m }, (_, i) =>
        initial![i]! > 0 && Number.isFinite(losses[i]!) ? losses[i]! / initial![i]! : 1,
      );
      const meanRatio = ratio.reduce((a, b) => a + b, 0) / m;
      const gw = norms.map((n, i) => w[i]! * n);
      const meanGw = gw.reduce((a, b) => a + b, 0) / m;
      // ∂/∂w_i of Σ|gw − target| is sign_i·‖g_i‖; through the softmax ∂w_i/∂s_k = w_i(δ_ik − w_k/m).
      const dw = gw.map(
        (g, i) =>
          Math.sign(g - meanGw * (meanRatio > 0 ? ratio[i]! / meanRatio : 1) ** options.alpha) * norms[i]!,
      );
      const dwDotW = dw.reduce((s, x, i) => s + (x * w[i]!) / m, 0);
      const grad = w.map((wi, k) => wi * (dw[k]! - dwDotW));
      if (grad.every(Number.isFinite)) adam.step(logits, grad);
      last = w;
      return update;
    },
    lastWeights: () => last,
    getState: () => ({ logits: [...logits], adam: adam.getState(), initial }),
    setState(state: AggregatorState) {
      const ok = (x: unknown) => Array.isArray(x) && x.length === m;
      if (
        !ok(state.logits) ||
        !HostAdam.isState(state.adam, m) ||
        !(state.initial === null || ok(state.initial))
      ) {
        throw new MtlError(
          'CHECKPOINT_MISMATCH',
          `gradnorm state needs ${m} logits, Adam moments and initial losses`,
          {
            place: 'weighting gradnorm',
          },
        );
      }
      logits = [...(state.logits as number[])];
      adam = new HostAdam(m, options.lr, 0);
      adam.setState(state.adam);
      initial = state.initial === null ? null : [...(state.initial as number[])];
    },
  };
}
