import { MtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import type { Aggregator, AggregatorState } from '../aggregator.js';
import { type AggregatorEnv, checkAllTasks, sumScalars } from './common.js';

/**
 * IMTL-L (Liu et al. 2021, "Towards Impartial Multi-task Learning", loss balance): a learnable
 * scale `s_t` per task, objective `Σ_t e^{s_t}·L_t − s_t`; at its optimum in `s` every scaled
 * loss `e^{s_t}L_t` equals 1. The `s_t` are trainable variables updated by the Trainer's optimizer.
 */
export const imtlLOptionsSchema = z
  .strictObject({
    method: z.literal('imtlL'),
    init: z.number().min(-20).max(20).default(0),
  })
  .describe('loss level: IMTL-L learnable loss scales');

export function createImtlL(options: z.output<typeof imtlLOptionsSchema>, env: AggregatorEnv): Aggregator {
  const m = env.tasks.length;
  const scale = tf.tidy(() => tf.variable(tf.fill([m], options.init), true, undefined, 'float32'));
  return {
    name: 'imtlL',
    level: 'loss',
    combine(losses, ctx) {
      checkAllTasks(ctx, env.tasks, 'imtlL');
      const s = tf.unstack(scale) as tf.Scalar[];
      return sumScalars(losses.map((l, t) => tf.sub(tf.mul(tf.exp(s[t]!), l), s[t]!) as tf.Scalar));
    },
    trainableVariables: () => [scale],
    lastWeights: () => Float64Array.from(scale.dataSync(), Math.exp),
    getState: () => ({ scale: Array.from(scale.dataSync()) }),
    setState(state: AggregatorState) {
      const v = state.scale;
      if (!Array.isArray(v) || v.length !== m || !v.every(Number.isFinite)) {
        throw new MtlError('CHECKPOINT_MISMATCH', `imtlL state needs ${m} finite "scale" values`, {
          place: 'weighting imtlL',
        });
      }
      tf.tidy(() => scale.assign(tf.tensor1d(v as number[], 'float32')));
    },
    dispose: () => scale.dispose(),
  };
}
