/** Per-class counts of a single-label classification, over the classes seen in golds or preds. */
export interface ClassCounts {
  /** Sorted class ids seen in golds or preds. */
  readonly labels: number[];
  /** Per class (same order as `labels`): rows where gold = pred = class. */
  readonly tp: Float64Array;
  /** Per class: rows predicted as the class (tp + fp). */
  readonly predicted: Float64Array;
  /** Per class: rows whose gold is the class (tp + fn). */
  readonly actual: Float64Array;
  /** Rows where gold = pred. */
  readonly correct: number;
}

/**
 * Counts per class in O(n + C log C). Class ids are mapped to dense indices through a Map so that
 * sparse large ids (e.g. 10^9) cost nothing.
 */
export function classCounts(golds: ArrayLike<number>, preds: ArrayLike<number>, n: number): ClassCounts {
  const seen = new Set<number>();
  for (let i = 0; i < n; i++) {
    seen.add(golds[i]);
    seen.add(preds[i]);
  }
  const labels = [...seen].sort((a, b) => a - b);
  const index = new Map<number, number>();
  labels.forEach((label, i) => {
    index.set(label, i);
  });
  const c = labels.length;
  const tp = new Float64Array(c);
  const predicted = new Float64Array(c);
  const actual = new Float64Array(c);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const g = index.get(golds[i])!;
    const p = index.get(preds[i])!;
    actual[g]++;
    predicted[p]++;
    if (g === p) {
      tp[g]++;
      correct++;
    }
  }
  return { labels, tp, predicted, actual, correct };
}

/**
 * F-beta from counts: (1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp), written on counts rather than on
 * precision and recall so that it stays defined when only one of those is 0/0 (as sklearn >= 1.3).
 * NaN when there is no positive at all (tp + fn + fp = 0).
 */
export function fbetaFromCounts(tp: number, fp: number, fn: number, beta: number): number {
  const b2 = beta * beta;
  const denom = (1 + b2) * tp + b2 * fn + fp;
  return denom === 0 ? Number.NaN : ((1 + b2) * tp) / denom;
}
