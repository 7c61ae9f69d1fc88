import { listNames, MtlError } from '@mtl/core';
import { modelScoreKey, scoreKey } from '@mtl/scoring';
import { Trainer } from '@mtl/training';
import { moduleLr, trainerOptions } from './commands/train.js';
import type { Prepared } from './prepare.js';
import { weightingFor } from './weighting.js';

/**
 * Every check `mtl train` makes before its first step, in one place so that `mtl validate` (which
 * calls exactly this) accepts a config if and only if training would start:
 * - each task's forward pass, loss and scorer on the first batch of each of its splits (train,
 *   valid, test, ...), so a head whose width does not fit the labels, a metric that does not fit
 *   the task, or a split whose rows have another shape fails now and not at the first evaluation
 *   or the final scoring;
 * - the trainer options (task weights, optimizer, schedule), the weighting method and the modules'
 *   learning-rate multipliers;
 * - the checkpoint, early-stopping and plateau metrics exist.
 * Writes nothing, changes no weight and draws from no random stream, so it cannot change a run's
 * numbers.
 */
export async function preflight(prepared: Prepared): Promise<void> {
  const splits = ['train', ...Object.values(prepared.taskData).flatMap((d) => Object.keys(d.splits))];
  for (const split of new Set(splits)) await prepared.run.checkSplit(split);
  const aggregator = weightingFor(prepared.loaded.config, prepared.run.taskNames);
  try {
    new Trainer(trainerOptions(prepared, '.'), { aggregator, groupLr: moduleLr(prepared) });
  } finally {
    aggregator.dispose?.();
  }
  await checkWatchedMetrics(prepared, () => evaluateValid(prepared));
}

/** Valid-split scores of the untrained model, or none when no task has the valid split. */
export function evaluateValid(prepared: Prepared): Promise<Record<string, number>> {
  const validSplit = prepared.loaded.config.training.validSplit;
  const hasValid = Object.values(prepared.taskData).some((d) => d.splits[validSplit] !== undefined);
  return hasValid ? prepared.run.evaluate(validSplit) : Promise.resolve({});
}

/**
 * A checkpoint, early-stopping or plateau metric that would never be produced fails here, before
 * any file is written (Emmental's default names a key that never exists and silently never saves).
 */
async function checkWatchedMetrics(
  prepared: Prepared,
  evaluate: () => Promise<Record<string, number>>,
): Promise<void> {
  const training = prepared.loaded.config.training;
  const watched: Array<[string, string | undefined]> = [
    ['training.checkpointMetric', training.checkpointMetric],
    ['training.earlyStopping.metric', training.earlyStopping?.metric],
    [
      'training.lrSchedule.metric',
      training.lrSchedule.type === 'plateau' ? training.lrSchedule.metric : undefined,
    ],
  ];
  if (watched.every(([, metric]) => metric === undefined)) return;
  const available = new Set(Object.keys(await evaluate()));
  for (const metric of ['loss', 'objective', 'lr']) available.add(modelScoreKey('train', metric));
  for (const task of prepared.run.taskNames) {
    const data = prepared.taskData[task]!;
    available.add(scoreKey(task, data.datasetName, 'train', 'loss'));
  }
  for (const [place, metric] of watched) {
    if (metric !== undefined && !available.has(metric)) {
      throw new MtlError(
        'CHECKPOINT_METRIC_UNKNOWN',
        `"${metric}" is never produced (available: ${listNames(available)})`,
        { place },
      );
    }
  }
}
