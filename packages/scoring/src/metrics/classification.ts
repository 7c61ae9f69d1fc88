import { MtlError } from '@mtl/core/base';
import { classCounts, fbetaFromCounts } from '../internal/classes.js';
import { rowAbstains } from '../internal/input.js';
import type { MetricDefinition, MetricInput } from '../metric.js';

function countAbstained(
  n: number,
  width: number,
  golds: Float64Array,
  preds: Float64Array,
  abstainLabel: number | null,
): number {
  let count = 0;
  for (let i = 0; i < n; i++) if (rowAbstains(golds, preds, width, i, abstainLabel)) count++;
  return count;
}

/**
 * Binary metrics take class 1 as the positive class and accept labels 0 and 1 only: silently
 * treating a multiclass input as "1 vs rest" would report a number nobody asked for.
 */
function binaryCounts(input: MetricInput): { tp: number; fp: number; fn: number } {
  const { n, golds, preds, place } = input;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < n; i++) {
    const g = golds[i];
    const p = preds[i];
    if ((g !== 0 && g !== 1) || (p !== 0 && p !== 1)) {
      const which = g !== 0 && g !== 1 ? `gold ${g}` : `pred ${p}`;
      throw new MtlError(
        'LABEL_OUT_OF_RANGE',
        `${which} found, but this metric is binary (labels 0 and 1, positive class 1); use f1_macro, f1_micro or matthews_corrcoef for multiclass`,
        { place },
      );
    }
    if (p === 1) {
      if (g === 1) tp++;
      else fp++;
    } else if (g === 1) fn++;
  }
  return { tp, fp, fn };
}

function fbetaBinary(input: MetricInput, beta: number): number {
  const { tp, fp, fn } = binaryCounts(input);
  const f = fbetaFromCounts(tp, fp, fn, beta);
  return Number.isNaN(f) ? input.whenUndefined('no positive (class 1) in golds or preds') : f;
}

/** Multi-label cells counted as binary problems, one per label column (hamming-style). */
function labelColumnCounts(input: MetricInput): { tp: Float64Array; fp: Float64Array; fn: Float64Array } {
  const { n, width, golds, preds } = input;
  const tp = new Float64Array(width);
  const fp = new Float64Array(width);
  const fn = new Float64Array(width);
  for (let i = 0; i < n; i++) {
    for (let l = 0; l < width; l++) {
      const g = golds[i * width + l];
      const p = preds[i * width + l];
      if (p === 1) {
        if (g === 1) tp[l]++;
        else fp[l]++;
      } else if (g === 1) fn[l]++;
    }
  }
  return { tp, fp, fn };
}

const BETA_PARAM = {
  description: 'Weight of recall against precision (beta > 1 favours recall).',
  default: 1,
  min: 0,
  minExclusive: true,
} as const;

export const CLASSIFICATION_METRICS: readonly MetricDefinition[] = [
  {
    name: 'accuracy',
    description:
      'Fraction of rows with pred = gold; multi-label: subset accuracy (every label of the row right).',
    higherIsBetter: true,
    needsProbs: false,
    kind: 'classification',
    multiLabel: true,
    range: [0, 1],
    compute({ n, width, golds, preds }) {
      let correct = 0;
      for (let i = 0; i < n; i++) {
        let ok = true;
        for (let l = 0; l < width && ok; l++) ok = golds[i * width + l] === preds[i * width + l];
        if (ok) correct++;
      }
      return correct / n;
    },
  },
  {
    name: 'coverage',
    description:
      'Fraction of all rows (abstained golds included) whose pred is not the abstain label; multi-label: no cell abstains.',
    higherIsBetter: true,
    needsProbs: false,
    kind: 'any',
    multiLabel: true,
    keepsAbstained: true,
    range: [0, 1],
    compute({ n, width, preds, abstainLabel }) {
      if (abstainLabel === null) return 1;
      let covered = 0;
      for (let i = 0; i < n; i++) {
        let ok = true;
        for (let l = 0; l < width && ok; l++) ok = preds[i * width + l] !== abstainLabel;
        if (ok) covered++;
      }
      return covered / n;
    },
  },
  {
    name: 'scored',
    description:
      'Number of rows scored: rows whose gold and pred are not the abstain label and whose gold is not missing (NaN); with `abstained` it adds up to every row.',
    higherIsBetter: true,
    needsProbs: false,
    kind: 'any',
    multiLabel: true,
    keepsAbstained: true,
    compute: ({ n, width, golds, preds, abstainLabel }) =>
      n - countAbstained(n, width, golds, preds, abstainLabel),
  },
  {
    name: 'abstained',
    description:
      'Number of rows left out of every other metric: a gold or pred equal to the abstain label, or a missing (NaN) gold; multi-label: any cell.',
    higherIsBetter: false,
    needsProbs: false,
    kind: 'any',
    multiLabel: true,
    keepsAbstained: true,
    compute: ({ n, width, golds, preds, abstainLabel }) =>
      countAbstained(n, width, golds, preds, abstainLabel),
  },
  {
    name: 'precision',
    description: 'Binary precision tp / (tp + fp), positive class 1. Undefined without predicted positives.',
    higherIsBetter: true,
    needsProbs: false,
    kind: 'classification',
    multiLabel: false,
    range: [0, 1],
    compute(input) {
      const { tp, fp } = binaryCounts(input);
      return tp + fp === 0 ? input.whenUndefined('no predicted positive (class 1)') : tp / (tp + fp);
    },
  },
  {
    name: 'recall',
    description: 'Binary recall tp / (tp + fn), positive class 1. Undefined without gold positives.',
    higherIsBetter: true,
    needsProbs: false,
    kind: 'classification',
    multiLabel: false,
    range: [0, 1],
    compute(input) {
      const { tp, fn } = binaryCounts(input);
      return tp + fn === 0 ? input.whenUndefined('no gold positive (class 1)') : tp / (tp + fn);
    },
  },
  {
    name: 'f1',
    description: 'Binary F1 = 2tp / (2tp + fp + fn), positive class 1. Undefined without any positive.',
    higherIsBetter: true,
    needsProbs: false,
    kind: 'classification',
    multiLabel: false,
    range: [0, 1],
    compute: (input) => fbetaBinary(input, 1),
  },
  {
    name: 'fbeta',
    description:
      'Binary F-beta = (1 + b^2) tp / ((1 + b^2) tp + b^2 fn + fp), positive class 1. Undefined without any positive.',
    higherIsBetter: true,
    needsProbs: false,
    kind: 'classification',
    multiLabel: false,
    params: { beta: BETA_PARAM },
    atParam: 'beta',
    range: [0, 1],
    compute: (input) => fbetaBinary(input, input.params.beta),
  },
  {
    name: 'f1_micro',
    description:
      'F1 of the counts pooled over classes (single-label: equals accuracy); multi-label: pooled over all label cells.',
    higherIsBetter: true,
    needsProbs: false,
    kind: 'classification',
    multiLabel: true,
    range: [0, 1],
    compute(input) {
      if (!input.multiLabel) {
        // Pooled over every class, each wrong row is one fp (its pred) and one fn (its gold).
        return classCounts(input.golds, input.preds, input.n).correct / input.n;
      }
      const { tp, fp, fn } = labelColumnCounts(input);
      const sum = (a: Float64Array) => a.reduce((s, v) => s + v, 0);
      const f = fbetaFromCounts(sum(tp), sum(fp), sum(fn), 1);
      return Number.isNaN(f) ? input.whenUndefined('no positive label cell in golds or preds') : f;
    },
  },
  {
    name: 'f1_macro',
    description:
      'Unweighted mean of per-class F1 over the classes seen in golds or preds; multi-label: mean over label columns.',
    higherIsBetter: true,
    needsProbs: false,
    kind: 'classification',
    multiLabel: true,
    range: [0, 1],
    compute(input) {
      let total = 0;
      if (!input.multiLabel) {
        const c = classCounts(input.golds, input.preds, input.n);
        // Every class in the union has a gold or a pred, so its F1 is always defined.
        for (let k = 0; k < c.labels.length; k++) {
          total += fbetaFromCounts(c.tp[k], c.predicted[k] - c.tp[k], c.actual[k] - c.tp[k], 1);
        }
        return total / c.labels.length;
      }
      const { tp, fp, fn } = labelColumnCounts(input);
      for (let l = 0; l < input.width; l++) {
        const f = fbetaFromCounts(tp[l], fp[l], fn[l], 1);
        total += Number.isNaN(f)
          ? input.whenUndefined(`label column ${l} has no positive in golds or preds`)
          : f;
      }
      return total / input.width;
    },
  },
  {
    name: 'matthews_corrcoef',
    description:
      'Matthews correlation (multiclass: Gorodkin R_K from the confusion matrix). Undefined when golds or preds hold a single class.',
    higherIsBetter: true,
    needsProbs: false,
    kind: 'classification',
    multiLabel: false,
    range: [-1, 1],
    compute(input) {
      const c = classCounts(input.golds, input.preds, input.n);
      const s = input.n;
      let pt = 0;
      let pp = 0;
      let tt = 0;
      for (let k = 0; k < c.labels.length; k++) {
        pt += c.predicted[k] * c.actual[k];
        pp += c.predicted[k] * c.predicted[k];
        tt += c.actual[k] * c.actual[k];
      }
      const denom = Math.sqrt((s * s - pp) * (s * s - tt));
      if (denom === 0) return input.whenUndefined('golds or preds hold a single class');
      return Math.max(-1, Math.min(1, (c.correct * s - pt) / denom));
    },
  },
];
