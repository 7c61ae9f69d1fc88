import { MtlError } from '@mtl/core';
import { z } from 'zod';
import type { Aggregator, AggregatorState } from '../aggregator.js';
import { type AggregatorEnv, checkRows, gradientOfOption } from './common.js';
import { axpy, norm, row } from './linalg.js';

/**
 * DB-MTL (Lin et al. 2023, "Dual-Balancing for Multi-Task Learning"): loss-scale balancing by
 * taking the gradient of `log(L_i + eps)` (= `g_i/(L_i + eps)`, from the Jacobian and the loss
 * values), then gradient-magnitude balancing: an exponential moving average of each task's
 * log-gradient (rate `beta / step^betaSigma`), every average rescaled to the largest one's norm,
 * summed. State: the averages (one row per task, as long as the shared gradient) and the step.
 * Unlike LibMTL no 1e-8 is added to the norms, so gradients of 1e-10 are balanced too.
 */
export const dbMtlOptionsSchema = z
  .strictObject({
    method: z.literal('dbMtl'),
    ...gradientOfOption,
    beta: z.number().min(0).max(1).default(0.9),
    betaSigma: z.number().min(0).default(0.5),
    eps: z.number().gt(0).default(1e-8),
  })
  .describe('gradient level: log-loss gradients, EMA, rescaled to the largest (DB-MTL)');

export function createDbMtl(options: z.output<typeof dbMtlOptionsSchema>, env: AggregatorEnv): Aggregator {
  const m = env.tasks.length;
  let buffer: Float64Array[] | undefined;
  let step = 0;
  return {
    name: 'dbMtl',
    level: 'gradient',
    gradientOf: options.gradientOf,
    aggregate(J, losses) {
      checkRows(J, losses, env.tasks, 'dbMtl');
      step += 1;
      if (buffer === undefined || buffer[0]!.length !== J.cols) {
        buffer = Array.from({ length: m }, () => new Float64Array(J.cols));
      }
      const keep = options.beta / step ** options.betaSigma;
      for (let i = 0; i < m; i++) {
        const b = buffer[i]!;
        const g = row(J, i);
        const inv = 1 / (losses[i]! + options.eps);
        // b ← g' + keep·(b − g'), g' = g/(L + eps)
        for (let k = 0; k < J.cols; k++) b[k] = g[k]! * inv + keep * (b[k]! - g[k]! * inv);
      }
      const norms = buffer.map(norm);
      const max = Math.max(...norms);
      const alpha = Float64Array.from(norms, (n) => (n > 0 ? max / n : 0));
      const out = new Float64Array(J.cols);
      for (let i = 0; i < m; i++) axpy(out, alpha[i]!, buffer[i]!);
      return out;
    },
    getState: () => ({ step, buffer: buffer === undefined ? null : buffer.map((b) => [...b]) }),
    setState(state: AggregatorState) {
      const b = state.buffer;
      if (
        !Number.isInteger(state.step) ||
        !(b === null || (Array.isArray(b) && b.length === m && b.every(Array.isArray)))
      ) {
        throw new MtlError('CHECKPOINT_MISMATCH', `dbMtl state needs "step" and ${m} "buffer" rows`, {
          place: 'weighting dbMtl',
        });
      }
      step = state.step as number;
      buffer = b === null ? undefined : (b as number[][]).map((r) => Float64Array.from(r));
    },
  };
}
