import { listNames, MtlError } from '@mtl/core/base';
import { metricHigherIsBetter } from './metric-registry.js';
import { MODEL_TASK, parseScoreKey, type ScoreKeyParts } from './score-key.js';
import { sliceBaseMetric } from './slices.js';

/**
 * Options of {@link multitaskImprovement}.
 * @example
 * const options: MultitaskImprovementOptions = { split: 'test', higherIsBetter: { my_error: false } };
 */
export interface MultitaskImprovementOptions {
  /** The split compared (exact match), e.g. `test`. */
  readonly split: string;
  /**
   * Direction per metric name (the last part of a key), over the registry's `higherIsBetter`.
   * Needed for custom metrics; `loss` is known as lower-is-better.
   */
  readonly higherIsBetter?: Readonly<Record<string, boolean>>;
  /** Only these metric names count (default: every metric of the split). */
  readonly metrics?: readonly string[];
}

/**
 * The result of {@link multitaskImprovement}.
 * @example
 * const { deltaM, perTask } = multitaskImprovement(scores, baselines, { split: 'test' });
 */
export interface MultitaskImprovement {
  /** Δm: the mean over tasks of each task's mean signed relative change (0.05 = 5% better). */
  readonly deltaM: number;
  /** Per task: (1/M_t) Σ_m ±(score − baseline) / baseline. */
  readonly perTask: Record<string, number>;
  /** Per score key: ±(score − baseline) / baseline, positive when the multitask score is better. */
  readonly perKey: Record<string, number>;
}

function selected(
  scores: Readonly<Record<string, number>>,
  options: MultitaskImprovementOptions,
): Map<string, ScoreKeyParts> {
  const out = new Map<string, ScoreKeyParts>();
  for (const key of Object.keys(scores)) {
    const parts = parseScoreKey(key);
    if (parts.split !== options.split || parts.task === MODEL_TASK) continue;
    if (options.metrics !== undefined && !options.metrics.includes(parts.metric)) continue;
    out.set(key, parts);
  }
  return out;
}

/**
 * Multitask improvement over single-task baselines (LibMTL's Δm):
 * Δm = (1/T) Σ_t (1/M_t) Σ_m (−1)^{higherIsBetter ? 0 : 1} (score_mt − score_single) / score_single,
 * over the keys `task/dataset/split/metric` of the chosen split. The model-wide task `model` is left
 * out; each (dataset, metric) pair of a task counts as one of its M_t metrics. Both maps must hold the
 * same keys for the split (UNKNOWN_KEY names the first missing one) and no baseline may be 0
 * (METRIC_UNDEFINED). The formula is applied as written: a negative baseline (r2, pearson) flips
 * the sign of its term. Multiply by 100 for the percentage LibMTL prints.
 * @example
 * multitaskImprovement(
 *   { 'a/d/test/accuracy': 0.9, 'b/d/test/mse': 0.8 },
 *   { 'a/d/test/accuracy': 0.8, 'b/d/test/mse': 1.0 },
 *   { split: 'test' },
 * ); // { deltaM: 0.1625, perTask: { a: 0.125, b: 0.2 }, perKey: {...} }
 */
export function multitaskImprovement(
  scores: Readonly<Record<string, number>>,
  baselines: Readonly<Record<string, number>>,
  options: MultitaskImprovementOptions,
): MultitaskImprovement {
  const overrides = options.higherIsBetter ?? {};
  const ours = selected(scores, options);
  const theirs = selected(baselines, options);
  for (const key of ours.keys()) {
    if (!theirs.has(key)) {
      throw new MtlError('UNKNOWN_KEY', `score ${key} has no single-task baseline`, {
        place: 'multitaskImprovement baselines',
        details: { key },
      });
    }
  }
  for (const key of theirs.keys()) {
    if (!ours.has(key)) {
      throw new MtlError('UNKNOWN_KEY', `baseline ${key} has no multitask score`, {
        place: 'multitaskImprovement scores',
        details: { key },
      });
    }
  }
  if (ours.size === 0) {
    const splits = new Set(Object.keys(scores).map((k) => parseScoreKey(k).split));
    throw new MtlError(
      'DATA_EMPTY',
      `no task score of split ${options.split} to compare; splits present: ${listNames(splits)}`,
      { place: 'multitaskImprovement' },
    );
  }
  const perKey: Record<string, number> = {};
  const sums = new Map<string, { total: number; count: number }>();
  for (const [key, parts] of [...ours].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const s = scores[key];
    const b = baselines[key];
    if (!Number.isFinite(s) || !Number.isFinite(b)) {
      throw new MtlError('DATA_NON_FINITE', `score ${s} against baseline ${b}`, { place: key });
    }
    if (b === 0) {
      throw new MtlError('METRIC_UNDEFINED', 'the baseline is 0, so the relative change is undefined', {
        place: key,
      });
    }
    const higher = Object.hasOwn(overrides, parts.metric)
      ? overrides[parts.metric]
      : metricHigherIsBetter(sliceBaseMetric(parts.metric), overrides);
    const change = ((higher ? 1 : -1) * (s - b)) / b;
    perKey[key] = change;
    const acc = sums.get(parts.task) ?? { total: 0, count: 0 };
    acc.total += change;
    acc.count++;
    sums.set(parts.task, acc);
  }
  const perTask: Record<string, number> = {};
  let total = 0;
  for (const [task, { total: t, count }] of sums) {
    perTask[task] = t / count;
    total += perTask[task];
  }
  return { deltaM: total / sums.size, perTask, perKey };
}
