import type { FittedScaler } from '@mtl/data';
import { invertScaler } from '@mtl/data';
import { type Labels, type Probs, Scorer, type ScorerOptions } from '@mtl/scoring';
import type { Predictions, RunModel } from './model-run.js';
import type { TaskData } from './task-data.js';

/**
 * The scaler fitted on a task's label (`data.preprocessing.labels[label]`), when its targets were
 * scaled for training.
 * @example
 * const fitted = fitPreprocessing(train, { labels: { y: 'standard' } });
 * labelScalerOf({ ...data, label: 'y', preprocessing: fitted }); // { method: 'standard', offset, scale }
 */
export function labelScalerOf(data: Pick<TaskData, 'label' | 'preprocessing'>): FittedScaler | undefined {
  return data.preprocessing?.labels[data.label];
}

function unscaleRows(rows: Labels | Probs, scaler: FittedScaler): Labels {
  // Rows of values (several targets), or one value per row (a plain array or a typed array).
  if (rows.length > 0 && typeof rows[0] !== 'number') {
    return Array.from(rows as ArrayLike<ArrayLike<number>>, (r) => invertScaler(r, scaler));
  }
  return invertScaler(rows as ArrayLike<number>, scaler);
}

/**
 * A regression task's scorer that scores in the label's original units: the model learns scaled
 * targets, and golds, predictions and values are scaled back before any metric sees them.
 * `buildMultitaskModel` gives one to every regression task whose {@link TaskData} carries a label
 * scaler; the loss a model reports stays the training objective's (on scaled targets).
 * @example
 * new OriginalUnitsScorer({ metrics: ['mse', 'r2'], abstainLabel: null }, { method: 'standard', offset: [300], scale: [50] });
 */
export class OriginalUnitsScorer extends Scorer {
  constructor(
    options: ScorerOptions,
    private readonly scaler: FittedScaler,
  ) {
    super(options);
  }

  override score(golds: Labels, preds: Labels, probs?: Probs): Record<string, number> {
    return super.score(
      unscaleRows(golds, this.scaler),
      unscaleRows(preds, this.scaler),
      probs === undefined ? undefined : (unscaleRows(probs, this.scaler) as Probs),
    );
  }
}

/**
 * Predictions of a regression task in its label's original units. A column named `variance` (a
 * deep VMTL regression's predictive variance, after `value_0`) is a squared spread: it is
 * multiplied by scale², not shifted.
 * @example
 * unscalePredictions({ probs: [Float32Array.of(1)] }, { method: 'standard', offset: [300], scale: [50] }).probs; // [Float32Array [350]]
 */
export function unscalePredictions(p: Predictions, scaler: FittedScaler): Predictions {
  const variance = p.columns?.indexOf('variance') ?? -1;
  const probs = p.probs.map((row) => {
    if (variance < 0) return invertScaler(row, scaler);
    const values = invertScaler(row.subarray(0, variance), scaler);
    const out = Float32Array.from(row);
    out.set(values);
    out[variance] = row[variance]! * scaler.scale[0]! ** 2;
    return out;
  });
  const out: Predictions = { ...p, probs };
  if (p.preds !== undefined)
    out.preds = unscaleRows(p.preds as Labels, scaler) as NonNullable<Predictions['preds']>;
  return out;
}

/**
 * `run` whose `predict` answers in the label's original units for every task whose
 * {@link TaskData} carries a label scaler (the run builders of every model kind apply it).
 * @example
 * const run = withOriginalUnits(multitaskRunWithoutIt, taskData);
 */
export function withOriginalUnits(run: RunModel, taskData: Readonly<Record<string, TaskData>>): RunModel {
  const scaled = Object.entries(taskData).filter(([, data]) => labelScalerOf(data) !== undefined);
  if (scaled.length === 0) return run;
  return {
    ...run,
    async predict(task, dataset) {
      const p = await run.predict(task, dataset);
      const data = taskData[task];
      const scaler = data === undefined ? undefined : labelScalerOf(data);
      return scaler === undefined ? p : unscalePredictions(p, scaler);
    },
  };
}
