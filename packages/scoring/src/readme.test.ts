// The README's example, run as a test: keep the two in step.
import { describe, expect, it } from 'vitest';
import {
  formatScoreTable,
  multitaskImprovement,
  registerMetric,
  Scorer,
  scoreKey,
  scoreSlices,
  unregisterMetric,
} from './index.js';

describe('README example', () => {
  it('runs and prints what the README shows', () => {
    // --- README example start ---
    const scorer = new Scorer({
      metrics: ['accuracy', 'coverage', 'f1', { name: 'fbeta', beta: 2 }, 'roc_auc'],
    });
    const golds = [0, 1, 1, 0, 1, -1]; // -1: abstain (this row is left out, except by coverage)
    const preds = [0, 1, 0, 0, 1, 1];
    const probs = [
      [0.8, 0.2],
      [0.3, 0.7],
      [0.6, 0.4],
      [0.7, 0.3],
      [0.1, 0.9],
      [0.5, 0.5],
    ];
    const scores = scorer.score(golds, preds, probs);
    // { accuracy: 0.8, coverage: 1, f1: 0.8, 'fbeta@2': 0.714..., roc_auc: 1 }

    // One task on one split -> flat score keys task/dataset/split/metric.
    const valid: Record<string, number> = {};
    for (const [metric, value] of Object.entries(scores)) {
      valid[scoreKey('circle_task', 'circleDataset', 'valid', metric)] = value;
    }
    const table = formatScoreTable(valid);

    // The same scorer on named slices of the rows.
    const bySlice = scoreSlices(scorer, golds, preds, probs, {
      first_three: [true, true, true, false, false, false],
    });
    // { first_three: { accuracy: 0.666..., coverage: 1, f1: 0.666..., 'fbeta@2': 0.555..., roc_auc: 1 } }

    // Multitask improvement against single-task baselines.
    const single = { ...valid, 'circle_task/circleDataset/valid/accuracy': 0.64 };
    const { deltaM, perTask } = multitaskImprovement(valid, single, {
      split: 'valid',
      metrics: ['accuracy'],
    });
    // deltaM = (0.8 - 0.64) / 0.64 = 0.25; perTask = { circle_task: 0.25 }

    // A metric of your own, usable by name in any Scorer.
    registerMetric({
      name: 'error_rate',
      description: 'Fraction of wrong predictions.',
      higherIsBetter: false,
      needsProbs: false,
      kind: 'classification',
      multiLabel: false,
      compute: ({ n, golds, preds }) => {
        let wrong = 0;
        for (let i = 0; i < n; i++) if (golds[i] !== preds[i]) wrong++;
        return wrong / n;
      },
    });
    const errors = new Scorer({ metrics: ['error_rate'] }).score([0, 1, 1, 0], [0, 1, 0, 0]); // { error_rate: 0.25 }
    // --- README example end ---

    expect(scores.accuracy).toBeCloseTo(0.8, 12);
    expect(scores.coverage).toBe(1);
    expect(scores.f1).toBeCloseTo(0.8, 12); // tp 2, fp 0, fn 1
    expect(scores['fbeta@2']).toBeCloseTo(10 / 14, 12); // 5 tp / (5 tp + 4 fn + fp)
    expect(scores.roc_auc).toBe(1);
    expect(table).toBe(
      [
        'task         dataset        split  metric     value',
        'circle_task  circleDataset  valid  accuracy  0.8000',
        'circle_task  circleDataset  valid  coverage  1.0000',
        'circle_task  circleDataset  valid  f1        0.8000',
        'circle_task  circleDataset  valid  fbeta@2   0.7143',
        'circle_task  circleDataset  valid  roc_auc   1.0000',
      ].join('\n'),
    );
    expect(bySlice.first_three.accuracy).toBeCloseTo(2 / 3, 12);
    expect(bySlice.first_three['fbeta@2']).toBeCloseTo(5 / 9, 12); // tp 1, fn 1: 5 / (5 + 4)
    expect(deltaM).toBeCloseTo(0.25, 12);
    expect(perTask).toEqual({ circle_task: deltaM });
    expect(errors).toEqual({ error_rate: 0.25 });
    unregisterMetric('error_rate');
  });
});
