import { rankAuc } from '../internal/ranks.js';
import type { MetricDefinition, MetricInput } from '../metric.js';

function column(input: MetricInput, c: number): Float64Array {
  const { n, classes } = input;
  const probs = input.probs!;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = probs[i * classes + c];
  return out;
}

/** Index of the largest value of row i; the first one wins a tie (as numpy's argmax). */
function argmaxRow(probs: Float64Array, i: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (probs[i * classes + c] > probs[i * classes + best]) best = c;
  return best;
}

function rocAuc(input: MetricInput): number {
  const { n, golds, multiLabel, width, classes } = input;
  if (multiLabel) {
    let sum = 0;
    let count = 0;
    for (let l = 0; l < width; l++) {
      const auc = rankAuc(column(input, l), (i) => golds[i * width + l] === 1);
      if (!Number.isNaN(auc)) {
        sum += auc;
        count++;
      }
    }
    return count === 0 ? input.whenUndefined('every label column holds a single class') : sum / count;
  }
  if (classes === 2) {
    const auc = rankAuc(column(input, 1), (i) => golds[i] === 1);
    return Number.isNaN(auc) ? input.whenUndefined('golds hold a single class') : auc;
  }
  // One-vs-rest over the classes present in golds: a class absent from golds has no positive, so its
  // curve does not exist (sklearn refuses the input; we average over the curves that exist).
  const present = new Set<number>();
  for (let i = 0; i < n; i++) present.add(golds[i]);
  if (present.size < 2) return input.whenUndefined('golds hold a single class');
  let sum = 0;
  for (const c of present) sum += rankAuc(column(input, c), (i) => golds[i] === c);
  return sum / present.size;
}

export const PROBABILISTIC_METRICS: readonly MetricDefinition[] = [
  {
    name: 'roc_auc',
    description:
      'Area under the ROC curve from probs (ties count 1/2, by average ranks). Binary: column of class 1; multiclass: one-vs-rest macro over classes present in golds; multi-label: macro over label columns with both values. Undefined when golds hold a single class.',
    higherIsBetter: true,
    needsProbs: true,
    acceptsScores: true,
    kind: 'classification',
    multiLabel: true,
    range: [0, 1],
    compute: rocAuc,
  },
  {
    name: 'top_k_accuracy',
    description:
      'Fraction of rows whose gold is among the k highest probs (ties: the lower class id ranks first). Written `accuracy@k`.',
    higherIsBetter: true,
    needsProbs: true,
    acceptsScores: true,
    kind: 'classification',
    multiLabel: false,
    params: { k: { description: 'How many of the top classes count as a hit.', integer: true, min: 1 } },
    atParam: 'k',
    atPrefix: 'accuracy',
    range: [0, 1],
    compute({ n, golds, probs, classes, params }) {
      const p = probs!;
      let hits = 0;
      for (let i = 0; i < n; i++) {
        const g = golds[i];
        const pg = p[i * classes + g];
        // Rank of the gold in a stable descending sort, without sorting: O(C) per row.
        let rank = 0;
        for (let c = 0; c < classes; c++) {
          const v = p[i * classes + c];
          if (v > pg || (v === pg && c < g)) rank++;
        }
        if (rank < params.k) hits++;
      }
      return hits / n;
    },
  },
  {
    name: 'log_loss',
    description:
      'Mean negative log probability of the gold class, probabilities clipped to [eps, 1 - eps] (eps = 1e-15 by default), not renormalised.',
    higherIsBetter: false,
    needsProbs: true,
    kind: 'classification',
    multiLabel: false,
    params: {
      eps: {
        description: 'Clipping of probabilities away from 0 and 1.',
        default: 1e-15,
        min: 0,
        minExclusive: true,
        max: 0.5,
      },
    },
    range: [0, Number.POSITIVE_INFINITY],
    compute({ n, golds, probs, classes, params }) {
      const p = probs!;
      const eps = params.eps;
      let total = 0;
      for (let i = 0; i < n; i++) {
        const q = Math.min(1 - eps, Math.max(eps, p[i * classes + golds[i]]));
        total -= Math.log(q);
      }
      return total / n;
    },
  },
  {
    name: 'brier',
    description:
      'Brier score. Binary (2 columns): mean (p1 - y)^2, in [0, 1] as sklearn brier_score_loss; multiclass: mean over rows of sum over classes (p_c - [c = y])^2, in [0, 2].',
    higherIsBetter: false,
    needsProbs: true,
    kind: 'classification',
    multiLabel: false,
    range: [0, 2],
    compute({ n, golds, probs, classes }) {
      const p = probs!;
      let total = 0;
      for (let i = 0; i < n; i++) {
        if (classes === 2) {
          total += (p[i * 2 + 1] - golds[i]) ** 2;
          continue;
        }
        for (let c = 0; c < classes; c++) total += (p[i * classes + c] - (c === golds[i] ? 1 : 0)) ** 2;
      }
      return total / n;
    },
  },
  {
    name: 'ece',
    description:
      'Expected calibration error: rows binned by confidence (the largest prob) into `bins` equal-width bins (lo, hi] of [0, 1] (0 joins the first); sum over bins of (rows in bin / n) * |accuracy - mean confidence|, where a row is right when the argmax of its probs is the gold.',
    higherIsBetter: false,
    needsProbs: true,
    kind: 'classification',
    multiLabel: false,
    params: {
      bins: { description: 'Number of equal-width confidence bins.', default: 10, integer: true, min: 1 },
    },
    atParam: 'bins',
    range: [0, 1],
    compute({ n, golds, probs, classes, params }) {
      const p = probs!;
      const bins = params.bins;
      const count = new Float64Array(bins);
      const confSum = new Float64Array(bins);
      const rightSum = new Float64Array(bins);
      for (let i = 0; i < n; i++) {
        const best = argmaxRow(p, i, classes);
        const conf = p[i * classes + best];
        let b = Math.ceil(conf * bins) - 1;
        // conf * bins can round across an edge (0.3 * 10 = 3.0000000000000004): settle on the edges i / bins.
        if (b >= 0 && conf <= b / bins) b--;
        if (b < bins - 1 && conf > (b + 1) / bins) b++;
        b = Math.min(bins - 1, Math.max(0, b));
        count[b]++;
        confSum[b] += conf;
        if (best === golds[i]) rightSum[b]++;
      }
      let ece = 0;
      for (let b = 0; b < bins; b++) {
        if (count[b] > 0) ece += (count[b] / n) * Math.abs(rightSum[b] / count[b] - confSum[b] / count[b]);
      }
      return ece;
    },
  },
];
