import { withModelLoss } from '@mtl/scoring';
import type { RunModel } from './model-run.js';

/**
 * `run` whose `evaluate` and `scoreAll` also give `model/all/<split>/loss = Σ weight·task loss`
 * (@mtl/scoring's `withModelLoss`), the definition the Trainer logs `model/all/train/loss` by.
 * The run builders of every model kind apply it with their tasks' weights (default 1).
 * @example
 * const run = withModelLosses(runWithoutIt, { a: 2, b: 1 });
 * (await run.evaluate('valid'))['model/all/valid/loss']; // 2·a's loss + b's loss
 */
export function withModelLosses(run: RunModel, weights: Readonly<Record<string, number>>): RunModel {
  return {
    ...run,
    evaluate: async (split, step) => withModelLoss(await run.evaluate(split, step), weights),
    scoreAll: async () => withModelLoss(await run.scoreAll(), weights),
  };
}
