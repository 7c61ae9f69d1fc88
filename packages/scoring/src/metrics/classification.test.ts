import { isMtlError } from '@mtl/core/base';
import { describe, expect, it } from 'vitest';
import { Scorer } from '../scorer.js';

const score = (metrics: string[], golds: number[] | number[][], preds: number[] | number[][]) =>
  new Scorer({ metrics }).score(golds, preds);

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

// Binary case A. Counts: tp = 3 (rows 1, 4, 6), fp = 1 (row 5), fn = 2 (rows 2, 7), tn = 2 (rows 0, 3).
const A_GOLDS = [0, 1, 1, 0, 1, 0, 1, 1];
const A_PREDS = [0, 1, 0, 0, 1, 1, 1, 0];

// Multiclass case B (3 classes). Per class (tp, fp, fn): 0 -> (3, 1, 0), 1 -> (1, 1, 2), 2 -> (2, 1, 1).
const B_GOLDS = [0, 1, 2, 2, 1, 0, 2, 1, 0];
const B_PREDS = [0, 2, 2, 1, 1, 0, 2, 0, 0];

describe('binary classification metrics (case A)', () => {
  it('agree with the counts (the values sklearn gives on the same input)', () => {
    const s = score(['accuracy', 'precision', 'recall', 'f1', 'f1_micro', 'f1_macro'], A_GOLDS, A_PREDS);
    expect(s.accuracy).toBeCloseTo(5 / 8, 12); // 0.625
    expect(s.precision).toBeCloseTo(3 / 4, 12); // tp / (tp + fp)
    expect(s.recall).toBeCloseTo(3 / 5, 12); // tp / (tp + fn)
    expect(s.f1).toBeCloseTo(6 / 9, 12); // 2tp / (2tp + fp + fn) = 0.6667
    expect(s.f1_micro).toBeCloseTo(0.625, 12); // pooled over both classes = accuracy
    // sklearn f1_score(average='macro'): class 0 has tp 2, fp 2, fn 1 -> 4/7; class 1 -> 2/3;
    // mean = 13/21 = 0.6190476190476191.
    expect(s.f1_macro).toBeCloseTo(13 / 21, 12);
  });

  it('fbeta takes beta from a spec object or the @ form, keyed fbeta@beta', () => {
    const s = new Scorer({ metrics: [{ name: 'fbeta', beta: 2 }, 'fbeta@0.5', 'fbeta'] }).score(
      A_GOLDS,
      A_PREDS,
    );
    // beta = 2: 5tp / (5tp + 4fn + fp) = 15 / 24; beta = 0.5: 1.25tp / (1.25tp + 0.25fn + fp) = 3.75 / 5.25.
    expect(s['fbeta@2']).toBeCloseTo(0.625, 12);
    expect(s['fbeta@0.5']).toBeCloseTo(0.7142857142857143, 12);
    expect(s.fbeta).toBeCloseTo(6 / 9, 12); // default beta = 1 is f1
  });

  it('matthews_corrcoef binary equals (tp tn - fp fn) / sqrt(...)', () => {
    // (3*2 - 1*2) / sqrt((3+1)(3+2)(2+1)(2+2)) = 4 / sqrt(240) = 0.2581988897471611 (sklearn: same).
    expect(score(['matthews_corrcoef'], A_GOLDS, A_PREDS).matthews_corrcoef).toBeCloseTo(
      0.2581988897471611,
      12,
    );
  });

  it('binary metrics refuse labels other than 0 and 1, naming the metric', () => {
    const e = thrown(() => score(['f1'], [0, 1, 2], [0, 1, 2]));
    expect(isMtlError(e, 'LABEL_OUT_OF_RANGE')).toBe(true);
    expect((e as Error).message).toMatch(/^f1: gold 2 found/);
  });
});

describe('multiclass metrics (case B)', () => {
  it('macro and micro F1', () => {
    const s = score(['accuracy', 'f1_micro', 'f1_macro'], B_GOLDS, B_PREDS);
    expect(s.accuracy).toBeCloseTo(6 / 9, 12);
    expect(s.f1_micro).toBeCloseTo(6 / 9, 12);
    // Per class 2tp / (2tp + fp + fn): 6/7, 2/5, 4/6; mean = 202/315 = 0.6412698412698413 (sklearn: same).
    expect(s.f1_macro).toBeCloseTo(202 / 315, 12);
  });

  it('matthews_corrcoef multiclass (Gorodkin R_K, as sklearn)', () => {
    // c = 6 correct, s = 9 rows, predicted counts p = (4, 2, 3), true counts t = (3, 3, 3):
    // (c s - p.t) / sqrt((s^2 - p.p)(s^2 - t.t)) = (54 - 27) / sqrt((81 - 29)(81 - 27)) = 27 / sqrt(2808).
    expect(score(['matthews_corrcoef'], B_GOLDS, B_PREDS).matthews_corrcoef).toBeCloseTo(
      0.5095246653650681,
      12,
    );
  });

  it('macro F1 averages over the classes seen in golds or preds, whatever their ids', () => {
    // Classes 7 and 1000000: one right each, one 7 predicted as 1000000.
    // class 7: tp 1, fn 1 -> 2/3; class 1e6: tp 1, fp 1 -> 2/3.
    expect(score(['f1_macro'], [7, 7, 1e6], [7, 1e6, 1e6]).f1_macro).toBeCloseTo(2 / 3, 12);
  });
});

describe('multi-label rows (case C)', () => {
  const golds = [
    [1, 0, 1],
    [0, 1, 0],
    [1, 1, 0],
    [0, 0, 1],
  ];
  const preds = [
    [1, 0, 0],
    [0, 1, 0],
    [1, 1, 0],
    [0, 1, 1],
  ];

  it('subset accuracy and hamming-style F1', () => {
    const s = score(['accuracy', 'f1_micro', 'f1_macro', 'coverage'], golds, preds);
    expect(s.accuracy).toBe(0.5); // rows 1 and 2 are right in every label
    // Per label (tp, fp, fn): (2, 0, 0) -> 1; (2, 1, 0) -> 4/5; (1, 0, 1) -> 2/3.
    expect(s.f1_macro).toBeCloseTo((1 + 0.8 + 2 / 3) / 3, 12);
    expect(s.f1_micro).toBeCloseTo(10 / 12, 12); // pooled: tp 5, fp 1, fn 1
    expect(s.coverage).toBe(1);
  });

  it('metrics without multi-label support say so and list those with it', () => {
    const e = thrown(() => score(['precision'], golds, preds));
    expect(isMtlError(e, 'INVALID_ARGUMENT')).toBe(true);
    expect((e as Error).message).toBe(
      'precision: does not take multi-label rows; metrics that do: abstained, accuracy, coverage, f1_macro, f1_micro, roc_auc, scored',
    );
  });

  it('cells must be 0 or 1', () => {
    const e = thrown(() => score(['accuracy'], [[0, 2]], [[0, 1]]));
    expect(isMtlError(e, 'LABEL_OUT_OF_RANGE')).toBe(true);
    expect((e as Error).message).toBe('golds[0][1]: a multi-label cell must be 0 or 1, got 2');
  });

  it('a row with an abstaining cell is dropped as a whole', () => {
    const s = score(
      ['accuracy', 'coverage'],
      [
        [1, -1],
        [0, 1],
        [1, 1],
      ],
      [
        [1, 0],
        [0, 1],
        [1, -1],
      ],
    );
    expect(s.accuracy).toBe(1); // only row 1 is left
    expect(s.coverage).toBeCloseTo(2 / 3, 12); // row 2's pred abstains
  });
});

describe('undefined cases (default: 0, like sklearn zero_division=0)', () => {
  const cases: [string, number[], number[]][] = [
    ['precision', [1, 0, 1], [0, 0, 0]], // no predicted positive
    ['recall', [0, 0, 0], [1, 0, 0]], // no gold positive
    ['f1', [0, 0], [0, 0]], // no positive at all
    ['fbeta@2', [0, 0], [0, 0]],
    ['matthews_corrcoef', [1, 1, 1], [1, 0, 1]], // golds hold one class
  ];
  for (const [metric, golds, preds] of cases) {
    it(`${metric}: 0 by default, METRIC_UNDEFINED with onUndefined: 'error'`, () => {
      const key = metric;
      expect(new Scorer({ metrics: [metric] }).score(golds, preds)[key]).toBe(0);
      const e = thrown(() => new Scorer({ metrics: [metric], onUndefined: 'error' }).score(golds, preds));
      expect(isMtlError(e, 'METRIC_UNDEFINED')).toBe(true);
      expect((e as Error).message.startsWith(`${metric}: undefined on these rows:`)).toBe(true);
    });
  }

  it('cases that look alike but are defined stay defined', () => {
    // Predicted positives but no gold positive: precision is 0/1 = 0, defined; f1 = 0/(0+1+0) = 0, defined.
    const s = new Scorer({ metrics: ['precision', 'f1'], onUndefined: 'error' }).score([0, 0], [1, 0]);
    expect(s).toEqual({ precision: 0, f1: 0 });
  });

  it('multi-label f1_macro: a label column with no positive anywhere is undefined', () => {
    const golds = [
      [1, 0],
      [0, 0],
    ];
    const preds = [
      [1, 0],
      [1, 0],
    ];
    // Label 0: tp 1, fp 1 -> 2/3; label 1: undefined -> 0; mean 1/3.
    expect(score(['f1_macro'], golds, preds).f1_macro).toBeCloseTo(1 / 3, 12);
    expect(() => new Scorer({ metrics: ['f1_macro'], onUndefined: 'error' }).score(golds, preds)).toThrow(
      /label column 1 has no positive/,
    );
  });
});
