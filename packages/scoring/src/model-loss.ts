import { isScoreKey, MODEL_TASK, modelScoreKey, parseScoreKey } from './score-key.js';

/**
 * Sets `model/all/<split>/loss = Σ weight(task)·task/<dataset>/<split>/loss` for every split of
 * `scores` that has a task loss: the definition a Trainer uses for `model/all/train/loss` (each
 * loss part weighted by its task's weight), so train and valid are on one scale in every file and
 * report. Keys of tasks without a weight (not trained in this run) are left out of the sum; the
 * input is not changed.
 * @example
 * withModelLoss({ 'a/d/valid/loss': 0.5, 'b/d/valid/loss': 0.25 }, { a: 2, b: 1 })['model/all/valid/loss']; // 1.25
 */
export function withModelLoss(
  scores: Readonly<Record<string, number>>,
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
