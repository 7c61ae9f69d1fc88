import { MtlError } from '@mtl/core';
import { z } from 'zod';
import type { Aggregator } from '../aggregator.js';
import { weightedSum } from '../weighted-sum.js';
import type { AggregatorEnv } from './common.js';

/**
 * Fixed task weights, the default: `Σ_t w_t·L_t` with `w_t` from `taskWeights` (1 when not
 * listed) — the Trainer's objective before the Aggregator seam, term for term (a weight of 1
 * multiplies nothing), so runs that choose no method keep their numbers.
 */
export const weightedSumOptionsSchema = z
  .strictObject({ method: z.literal('weightedSum') })
  .describe('loss level: Σ_t w_t·L_t with tasks.<t>.weight (default 1); the default');

/**
 * The registry's `weightedSum` is the Trainer's default aggregator ({@link weightedSum}), so a run
 * that names the method explicitly is fused part by part exactly like one that names none; the
 * weights are checked here first so that a bad one names its config place.
 */
export function createWeightedSum(
  _options: z.output<typeof weightedSumOptionsSchema>,
  env: AggregatorEnv,
): Aggregator {
  const given = env.taskWeights ?? {};
  for (const name of Object.keys(given)) {
    const w = given[name]!;
    if (!(w >= 0) || !Number.isFinite(w)) {
      throw new MtlError(
        'CONFIG_INVALID',
        `weightedSum: the weight of task "${name}" must be a finite number >= 0, got ${w}`,
        { place: `taskWeights.${name}` },
      );
    }
  }
  return weightedSum(given);
}
