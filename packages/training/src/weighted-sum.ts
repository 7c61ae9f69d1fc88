import { MtlError } from '@mtl/core';
import { sumScalars } from '@mtl/core/ops';
import * as tf from '@tensorflow/tfjs';
import type { Aggregator } from './aggregator.js';

/** The weights of every aggregator made by {@link weightedSum} (the Trainer fuses these with the parts). */
const made = new WeakMap<Aggregator, Readonly<Record<string, number>>>();

/**
 * The default aggregator: `Σ_t w_t · loss_t` with `w_t = weights[t]` (default 1), the `mtl`
 * config's `tasks.<t>.weight`. A Trainer without an aggregator uses `weightedSum(config.taskWeights)`.
 * The Trainer applies it part by part (`Σ_parts w_task · part`, one sum with the extra terms and
 * L2), which is the same sum written out, so runs keep their numbers bit for bit.
 * @example
 * const trainer = new Trainer({ epochs: 5 }, { aggregator: weightedSum({ a: 2 }) });
 */
export function weightedSum(weights: Readonly<Record<string, number>> = {}): Aggregator {
  for (const [task, w] of Object.entries(weights)) {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `the weight of task "${task}" must be a finite number ≥ 0, got ${w}`,
        {
          place: `weightedSum ${task}`,
        },
      );
    }
  }
  const frozen = Object.freeze({ ...weights });
  // The weights of the last combine, in its task order (a fused Trainer step calls no combine).
  let last: Float64Array | undefined;
  const aggregator: Aggregator = {
    name: 'weightedSum',
    level: 'loss',
    lastWeights: () => last,
    combine(losses, ctx) {
      last = Float64Array.from(ctx.tasks, (t) => frozen[t] ?? 1);
      const terms = losses.map((loss, i): tf.Scalar => {
        const w = frozen[ctx.tasks[i]!] ?? 1;
        return w === 1 ? loss : tf.mul(loss, w);
      });
      return sumScalars(terms);
    },
  };
  made.set(aggregator, frozen);
  return aggregator;
}

/** The task weights of an aggregator made by {@link weightedSum}, else undefined. */
export function weightedSumWeights(aggregator: Aggregator): Readonly<Record<string, number>> | undefined {
  return made.get(aggregator);
}
