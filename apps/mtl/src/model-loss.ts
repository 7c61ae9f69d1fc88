import { isScoreKey, MODEL_TASK, modelScoreKey, parseScoreKey } from '@mtl/scoring';
import type { RunModel } from '@mtl/tasks';
import type { MtlConfig } from './config/schema.js';

/**
 * The one map of task weights of a run: `tasks.<name>.weight` (default 1) of the tasks it trains.
 * The Trainer weighs the loss parts with it and {@link withModelLoss} the model-wide loss, so the
 * two cannot disagree (`training.taskWeights` is refused by the config schema).
 * @example
 * taskWeightsOf(config, ['a', 'b']); // { a: 2, b: 1 }
 */
export function taskWeightsOf(config: MtlConfig, taskNames: readonly string[]): Record<string, number> {
  return Object.fromEntries(taskNames.map((name) => [name, config.tasks[name]?.weight ?? 1]));
}

/**
 * Sets `model/all/<split>/loss = Σ weight(task)·task/<dataset>/<split>/loss` for every split of
 * `scores` that has a task loss: the definition the Trainer uses for `model/all/train/loss` of
 * metrics.jsonl, so every file and the report put train and valid on one scale. Keys of tasks
 * without a weight (not trained in this run) are left out of the sum.
 * @example
 * withModelLoss({ 'a/d/valid/loss': 0.5, 'b/d/valid/loss': 0.25 }, { a: 2, b: 1 })['model/all/valid/loss']; // 1.25
 */
export function withModelLoss(
  scores: Record<string, number>,
  weights: Readonly<Record<string, number>>,
): Record<string, number> {
  const sums = new Map<string, number>();
  for (const [key, value] of Object.entries(scores)) {
    if (!isScoreKey(key)) continue;
    const { task, split, metric } = parseScoreKey(key);
    if (task === MODEL_TASK || metric !== 'loss') continue;
    const w = weights[task];
    if (w === undefined) continue;
    sums.set(split, (sums.get(split) ?? 0) + w * value);
  }
  const out = { ...scores };
  for (const [split, loss] of sums) out[modelScoreKey(split, 'loss')] = loss;
  return out;
}

/** `run` whose `evaluate` and `scoreAll` give the model-wide loss of {@link withModelLoss}. */
export function withModelLosses(run: RunModel, weights: Readonly<Record<string, number>>): RunModel {
  const evaluate = run.evaluate.bind(run);
  const scoreAll = run.scoreAll.bind(run);
  return Object.assign(run, {
    evaluate: async (split: string, step?: number) => withModelLoss(await evaluate(split, step), weights),
    scoreAll: async () => withModelLoss(await scoreAll(), weights),
  });
}
