import { averageRanks } from '../internal/ranks.js';
import { isConstant, pearson } from '../internal/stats.js';
import type { MetricDefinition } from '../metric.js';

export const REGRESSION_METRICS: readonly MetricDefinition[] = [
  {
    name: 'mse',
    description: 'Mean squared error.',
    higherIsBetter: false,
    needsProbs: false,
    kind: 'regression',
    multiLabel: false,
    range: [0, Number.POSITIVE_INFINITY],
    compute({ n, golds, preds }) {
      let total = 0;
      for (let i = 0; i < n; i++) total += (preds[i] - golds[i]) ** 2;
      return total / n;
    },
  },
  {
    name: 'mae',
    description: 'Mean absolute error.',
    higherIsBetter: false,
    needsProbs: false,
    kind: 'regression',
    multiLabel: false,
    range: [0, Number.POSITIVE_INFINITY],
    compute({ n, golds, preds }) {
      let total = 0;
      for (let i = 0; i < n; i++) total += Math.abs(preds[i] - golds[i]);
      return total / n;
    },
  },
  {
    name: 'r2',
    description: 'Coefficient of determination 1 - SS_res / SS_tot. Undefined when golds are constant.',
    higherIsBetter: true,
    needsProbs: false,
    kind: 'regression',
    multiLabel: false,
    range: [Number.NEGATIVE_INFINITY, 1],
    compute(input) {
      const { n, golds, preds } = input;
      if (isConstant(golds)) return input.whenUndefined('golds are constant');
      let mean = 0;
      for (let i = 0; i < n; i++) mean += golds[i];
      mean /= n;
      let ssRes = 0;
      let ssTot = 0;
      for (let i = 0; i < n; i++) {
        ssRes += (golds[i] - preds[i]) ** 2;
        ssTot += (golds[i] - mean) ** 2;
      }
      // Distinct values can still have a variance that underflows (5e-324 and 0).
      return ssTot === 0 ? input.whenUndefined('golds are constant') : 1 - ssRes / ssTot;
    },
  },
  {
    name: 'pearson',
    description: 'Pearson correlation of preds with golds. Undefined when either is constant.',
    higherIsBetter: true,
    needsProbs: false,
    kind: 'regression',
    multiLabel: false,
    range: [-1, 1],
    compute(input) {
      const r = pearson(input.golds, input.preds);
      return Number.isNaN(r) ? input.whenUndefined('golds or preds are constant') : r;
    },
  },
  {
    name: 'spearman',
    description:
      'Spearman rank correlation: Pearson of the average ranks (ties share their mean rank). Undefined when either is constant.',
    higherIsBetter: true,
    needsProbs: false,
    kind: 'regression',
    multiLabel: false,
    range: [-1, 1],
    compute(input) {
      const r = pearson(averageRanks(input.golds), averageRanks(input.preds));
      return Number.isNaN(r) ? input.whenUndefined('golds or preds are constant') : r;
    },
  },
];
