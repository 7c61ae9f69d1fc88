import { MtlError } from '@mtl/core';
import { z } from 'zod';
import type { Aggregator, AggregatorContext, AggregatorState } from '../aggregator.js';
import { type AggregatorEnv, checkAllTasks, weightedLossSum } from './common.js';

/**
 * Dynamic weight average (Liu, Johns & Davison 2019, MTAN): `w_t = m·softmax(r/T)_t` with
 * `r_t = L̄_t(e−1)/L̄_t(e−2)`, `L̄(e)` the mean training loss of epoch e; weights 1 for the first
 * two epochs. The epoch means come from {@link Aggregator.observe}; an epoch closes when a step
 * of a later epoch arrives. State: the open epoch's sums and the last two epoch means.
 */
export const dwaOptionsSchema = z
  .strictObject({
    method: z.literal('dwa'),
    temperature: z.number().gt(0).default(2),
  })
  .describe("loss level: dynamic weight average of the last two epochs' loss ratios (DWA)");

export function createDwa(options: z.output<typeof dwaOptionsSchema>, env: AggregatorEnv): Aggregator {
  const m = env.tasks.length;
  let epoch = 0;
  let sums = new Array<number>(m).fill(0);
  let count = 0;
  let means: number[][] = [];
  let last: Float64Array | undefined;
  const roll = (ctx: AggregatorContext) => {
    if (ctx.epoch === epoch) return;
    if (count > 0) means = [...means, sums.map((s) => s / count)].slice(-2);
    epoch = ctx.epoch;
    sums = new Array<number>(m).fill(0);
    count = 0;
  };
  const weights = (): Float64Array => {
    if (means.length < 2) return new Float64Array(m).fill(1);
    const r = means[1]!.map((x, t) => x / means[0]![t]! / options.temperature);
    const max = Math.max(...r);
    const e = r.map((x) => Math.exp(x - max));
    const s = e.reduce((a, b) => a + b, 0);
    const w = Float64Array.from(e, (x) => (m * x) / s);
    return w.every(Number.isFinite) ? w : new Float64Array(m).fill(1);
  };
  return {
    name: 'dwa',
    level: 'loss',
    combine(losses, ctx) {
      checkAllTasks(ctx, env.tasks, 'dwa');
      roll(ctx);
      last = weights();
      return weightedLossSum(losses, last);
    },
    observe(losses, ctx) {
      roll(ctx);
      for (let t = 0; t < m; t++) sums[t]! += losses[t]!;
      count += 1;
    },
    lastWeights: () => last,
    getState: () => ({ epoch, sums: [...sums], count, means: means.map((r) => [...r]) }),
    setState(state: AggregatorState) {
      const ok = (x: unknown) => Array.isArray(x) && x.length === m;
      const ms = state.means;
      if (
        !Number.isInteger(state.epoch) ||
        !Number.isInteger(state.count) ||
        !ok(state.sums) ||
        !Array.isArray(ms) ||
        !ms.every(ok)
      ) {
        throw new MtlError(
          'CHECKPOINT_MISMATCH',
          `dwa state needs "epoch", "count", ${m} "sums" and the epoch "means"`,
          {
            place: 'weighting dwa',
          },
        );
      }
      epoch = state.epoch as number;
      count = state.count as number;
      sums = [...(state.sums as number[])];
      means = (ms as number[][]).map((r) => [...r]);
    },
  };
}
