import { MtlError, stopGradient } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Aggregator, AggregatorState } from '../aggregator.js';
import { type AggregatorEnv, checkAllTasks, HostAdam, sumScalars } from './common.js';

/**
 * FAMO (Liu et al. 2023, "Fast Adaptive Multitask Optimization"): objective
 * `Σ_t z_t·log(L_t − min_t + eps) / c`, `z = softmax(ξ)`, `c = Σ_t z_t/(L_t − min_t + eps)` held
 * constant, so the effective weights `z_t/(c·D_t)` sum to 1 at O(1) cost. After each step the
 * logits ξ take one Adam step (`lr`, weight decay `gamma`) on the gradient through the softmax
 * of the log-loss decrease since the previous step (the paper measures it on the same batch
 * after the update; one forward saved, as LibMTL does, by using the next step's losses).
 * State: ξ, Adam's moments, the previous losses — all on the host.
 */
export const famoOptionsSchema = z
  .strictObject({
    method: z.literal('famo'),
    lr: z.number().gt(0).default(0.025),
    gamma: z.number().min(0).default(0.001),
    eps: z.number().gt(0).default(1e-8),
    /** Per-task lower bound of the loss (0 for the usual non-negative losses). */
    minLosses: z.array(z.number()).optional(),
  })
  .describe('loss level: fast adaptive multitask optimisation, host-side logits (FAMO)');

export function createFamo(options: z.output<typeof famoOptionsSchema>, env: AggregatorEnv): Aggregator {
  const m = env.tasks.length;
  if (options.minLosses !== undefined && options.minLosses.length !== m) {
    throw new MtlError(
      'CONFIG_INVALID',
      `famo: minLosses has ${options.minLosses.length} values for ${m} tasks`,
      {
        place: 'weighting.minLosses',
      },
    );
  }
  const min = options.minLosses ?? new Array<number>(m).fill(0);
  let logits = new Array<number>(m).fill(0);
  let adam = new HostAdam(m, options.lr, options.gamma);
  let prev: number[] | null = null;
  let last: Float64Array | undefined;
  const softmax = () => {
    const max = Math.max(...logits);
    const e = logits.map((x) => Math.exp(x - max));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  };
  return {
    name: 'famo',
    level: 'loss',
    combine(losses, ctx) {
      checkAllTasks(ctx, env.tasks, 'famo');
      const z = softmax();
      const d = losses.map((l, t) => tf.add(tf.sub(l, min[t]!), options.eps) as tf.Scalar);
      const c = stopGradient(sumScalars(d.map((x, t) => tf.div(z[t]!, x) as tf.Scalar)));
      return tf.div(sumScalars(d.map((x, t) => tf.mul(tf.log(x), z[t]!) as tf.Scalar)), c) as tf.Scalar;
    },
    observe(losses) {
      const z = softmax();
      const cur = Array.from(losses, (l, t) => l - min[t]! + options.eps);
      const inv = cur.map((x, t) => z[t]! / x);
      const c = inv.reduce((a, b) => a + b, 0);
      last = Float64Array.from(inv, (x) => x / c);
      if (prev !== null) {
        const delta = cur.map((x, t) => Math.log(prev![t]!) - Math.log(x));
        const zDelta = delta.reduce((s, x, t) => s + z[t]! * x, 0);
        const grad = delta.map((x, t) => z[t]! * (x - zDelta));
        if (grad.every(Number.isFinite)) adam.step(logits, grad);
      }
      prev = cur;
    },
    lastWeights: () => last,
    getState: () => ({ logits: [...logits], adam: adam.getState(), prev }),
    setState(state: AggregatorState) {
      const ok = (x: unknown) => Array.isArray(x) && x.length === m;
      if (!ok(state.logits) || !HostAdam.isState(state.adam, m) || !(state.prev === null || ok(state.prev))) {
        throw new MtlError(
          'CHECKPOINT_MISMATCH',
          `famo state needs ${m} logits, Adam moments and the previous losses`,
          {
            place: 'weighting famo',
          },
        );
      }
      logits = [...(state.logits as number[])];
      adam = new HostAdam(m, options.lr, options.gamma);
      adam.setState(state.adam);
      prev = state.prev === null ? null : [...(state.prev as number[])];
    },
  };
}
