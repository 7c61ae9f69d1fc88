import { isMtlError } from '@mtl/core/base';
import { describe, expect, it } from 'vitest';
import { Scorer } from './scorer.js';
import { flattenSliceScores, scoreSlices, sliceBaseMetric } from './slices.js';

const golds = [0, 1, 1, 0, 1, 0];
const preds = [0, 1, 0, 1, 1, 0];
const probs = [0.2, 0.9, 0.4, 0.6, 0.7, 0.1];

describe('scoreSlices', () => {
  it('scores each masked subset with the scorer, keyed slice -> metric', () => {
    const scorer = new Scorer({ metrics: ['accuracy', 'roc_auc'] });
    const s = scoreSlices(scorer, golds, preds, probs, {
      first_half: [true, true, true, false, false, false],
      odd: Uint8Array.from([0, 1, 0, 1, 0, 1]),
    });
    // first_half: rows 0-2, accuracy 2/3; positives 0.9, 0.4 vs negative 0.2 -> AUC 1.
    // odd: rows 1, 3, 5 with golds 1, 0, 0, preds 1, 1, 0 -> accuracy 2/3; 0.9 vs 0.6, 0.1 -> AUC 1.
    expect(s).toEqual({ first_half: { accuracy: 2 / 3, roc_auc: 1 }, odd: { accuracy: 2 / 3, roc_auc: 1 } });
  });

  it('keeps the abstain rule inside a slice and names the slice in errors', () => {
    const scorer = new Scorer({ metrics: ['accuracy'] });
    expect(scoreSlices(scorer, [0, -1, 1], [0, 1, 0], undefined, { all: [true, true, true] })).toEqual({
      all: { accuracy: 0.5 },
    });
    try {
      scoreSlices(scorer, [0, -1, 1], [0, 1, 0], undefined, { abstained: [false, true, false] });
      expect.unreachable();
    } catch (e) {
      expect(isMtlError(e, 'ALL_ABSTAIN')).toBe(true);
      expect((e as Error).message).toMatch(/^slice abstained Scorer.score: all 1 rows abstain/);
    }
  });

  it('refuses masks of the wrong length, empty slices and bad names', () => {
    const scorer = new Scorer();
    expect(() => scoreSlices(scorer, golds, preds, undefined, { short: [true] })).toThrow(
      'slice short: mask has 1 entries but there are 6 rows',
    );
    expect(() => scoreSlices(scorer, golds, preds, undefined, { none: new Uint8Array(6) })).toThrow(
      'slice none: the mask selects no row',
    );
    expect(() => scoreSlices(scorer, golds, preds, undefined, { 'a:b': new Uint8Array(6) })).toThrow(
      /a slice name must be non-empty without/,
    );
  });

  it('flattens to score keys whose metric part names the slice', () => {
    const flat = flattenSliceScores(
      { small: { accuracy: 0.5, f1: 0.25 } },
      'circle',
      'circleDataset',
      'valid',
    );
    expect(flat).toEqual({
      'circle/circleDataset/valid/slice:small:accuracy': 0.5,
      'circle/circleDataset/valid/slice:small:f1': 0.25,
    });
    expect(sliceBaseMetric('slice:small:accuracy@3')).toBe('accuracy@3');
    expect(sliceBaseMetric('accuracy')).toBe('accuracy');
  });
});
