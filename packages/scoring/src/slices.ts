import { MtlError, toMtlError } from '@mtl/core/base';
import type { Labels, Probs } from './metric.js';
import { scoreKey } from './score-key.js';
import type { Scorer } from './scorer.js';

/**
 * Named row masks: `true` (or 1) keeps the row in the slice.
 * @example
 * const masks: SliceMasks = { short: [true, false, true], long: Uint8Array.from([0, 1, 0]) };
 */
export type SliceMasks = Readonly<Record<string, ArrayLike<boolean> | Uint8Array>>;

/**
 * Per-slice metric maps: `slice name -> metric -> value`.
 * @example
 * const bySlice: SliceScores = { short: { accuracy: 0.5 }, long: { accuracy: 1 } };
 */
export type SliceScores = Record<string, Record<string, number>>;

const SLICE_PREFIX = 'slice:';

function checkSliceName(name: string): void {
  if (name === '' || name.includes('/') || name.includes(':')) {
    throw new MtlError('INVALID_ARGUMENT', `a slice name must be non-empty without '/' or ':'`, {
      place: `slice ${JSON.stringify(name)}`,
    });
  }
}

/**
 * Scores each named slice of the rows with the same scorer. The result is nested,
 * `{ [slice]: { [metric]: value } }`; {@link flattenSliceScores} turns it into score keys. A slice
 * mask must have one entry per row (DATA_LENGTH_MISMATCH) and select at least one row (DATA_EMPTY);
 * errors of the scorer name the slice.
 * @example
 * const scorer = new Scorer({ metrics: ['accuracy'] });
 * scoreSlices(scorer, [0, 1, 1, 0], [0, 1, 0, 1], undefined, { first_half: [true, true, false, false] });
 * // { first_half: { accuracy: 1 } }
 */
export function scoreSlices(
  scorer: Scorer,
  golds: Labels,
  preds: Labels,
  probs: Probs | undefined,
  slices: SliceMasks,
): SliceScores {
  const n = golds.length;
  const out: SliceScores = {};
  for (const [name, mask] of Object.entries(slices)) {
    checkSliceName(name);
    const place = `slice ${name}`;
    if (mask === null || typeof mask !== 'object' || mask.length !== n) {
      throw new MtlError(
        'DATA_LENGTH_MISMATCH',
        `mask has ${mask?.length ?? 'no'} entries but there are ${n} rows`,
        { place },
      );
    }
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (mask[i]) rows.push(i);
    if (rows.length === 0) throw new MtlError('DATA_EMPTY', 'the mask selects no row', { place });
    const pick = <T>(x: ArrayLike<T>): T[] => rows.map((i) => x[i]);
    try {
      out[name] = scorer.score(
        pick<unknown>(golds) as Labels,
        pick<unknown>(preds) as Labels,
        probs === undefined ? undefined : (pick<unknown>(probs) as Probs),
      );
    } catch (e) {
      throw toMtlError(e).within(place);
    }
  }
  return out;
}

/**
 * Slice scores as flat score keys `task/dataset/split/slice:<name>:<metric>`.
 * @example
 * flattenSliceScores({ small: { accuracy: 0.5 } }, 'circle', 'circleDataset', 'valid');
 * // { 'circle/circleDataset/valid/slice:small:accuracy': 0.5 }
 */
export function flattenSliceScores(
  sliceScores: Readonly<Record<string, Readonly<Record<string, number>>>>,
  task: string,
  dataset: string,
  split: string,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, metrics] of Object.entries(sliceScores)) {
    checkSliceName(name);
    for (const [metric, value] of Object.entries(metrics)) {
      out[scoreKey(task, dataset, split, `${SLICE_PREFIX}${name}:${metric}`)] = value;
    }
  }
  return out;
}

/**
 * The metric a flattened slice metric name stands for (`slice:small:accuracy` → `accuracy`), or the
 * name itself.
 * @example
 * sliceBaseMetric('slice:small:f1'); // 'f1'
 */
export function sliceBaseMetric(metric: string): string {
  if (!metric.startsWith(SLICE_PREFIX)) return metric;
  const rest = metric.slice(SLICE_PREFIX.length);
  const colon = rest.indexOf(':');
  return colon < 0 ? metric : rest.slice(colon + 1);
}
