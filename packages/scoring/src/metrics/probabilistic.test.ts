import { isMtlError } from '@mtl/core/base';
import { describe, expect, it } from 'vitest';
import { Scorer } from '../scorer.js';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

// Binary case A with P(class 1) per row. Rows 2, 5 and 6 tie at 0.4 (two positives, one negative).
const A_GOLDS = [0, 1, 1, 0, 1, 0, 1, 1];
const A_PREDS = [0, 1, 0, 0, 1, 1, 1, 0];
const A_P1 = [0.1, 0.9, 0.4, 0.3, 0.8, 0.4, 0.4, 0.35];
const A_ROWS = A_P1.map((p) => [1 - p, p]);

// Multiclass case B, rows sum to 1.
const B_GOLDS = [0, 1, 2, 2, 1, 0, 2, 1, 0];
const B_PREDS = [0, 2, 2, 1, 1, 0, 2, 0, 0];
const B_PROBS = [
  [0.7, 0.2, 0.1],
  [0.1, 0.3, 0.6],
  [0.2, 0.2, 0.6],
  [0.3, 0.4, 0.3], // gold 2 ties with class 0 and ranks after it (rank 2)
  [0.25, 0.5, 0.25],
  [0.6, 0.3, 0.1],
  [0.1, 0.1, 0.8],
  [0.5, 0.4, 0.1],
  [0.4, 0.4, 0.2], // gold 0 ties with class 1 and ranks first (lower id)
];

describe('roc_auc', () => {
  it('binary with ties counting one half (sklearn roc_auc_score: 13/15)', () => {
    // Negatives score 0.1, 0.3, 0.4. Per positive, negatives below + 1/2 per tie:
    // 0.9 -> 3, 0.4 -> 2.5, 0.8 -> 3, 0.4 -> 2.5, 0.35 -> 2; total 13 of 5 * 3 = 15 pairs.
    const expected = 13 / 15;
    const scorer = new Scorer({ metrics: ['roc_auc'] });
    expect(scorer.score(A_GOLDS, A_PREDS, A_ROWS).roc_auc).toBeCloseTo(expected, 12);
    // The same from one number per row or one column per row (P(class 1)).
    expect(scorer.score(A_GOLDS, A_PREDS, A_P1).roc_auc).toBeCloseTo(expected, 12);
    expect(
      scorer.score(
        A_GOLDS,
        A_PREDS,
        A_P1.map((p) => [p]),
      ).roc_auc,
    ).toBeCloseTo(expected, 12);
    expect(scorer.score(A_GOLDS, A_PREDS, Float32Array.from(A_P1)).roc_auc).toBeCloseTo(expected, 6);
  });

  it('accepts scores outside [0, 1] (logits)', () => {
    const logits = A_P1.map((p) => Math.log(p / (1 - p)) * 3);
    expect(new Scorer({ metrics: ['roc_auc'] }).score(A_GOLDS, A_PREDS, logits).roc_auc).toBeCloseTo(
      13 / 15,
      12,
    );
  });

  it('multiclass one-vs-rest macro (sklearn multi_class="ovr": 48/54)', () => {
    // Class 0: positives 0.7, 0.6, 0.4 vs negatives 0.1 0.2 0.3 0.25 0.1 0.5 -> 6 + 6 + 5 = 17 of 18.
    // Class 1: positives 0.3, 0.5, 0.4 vs 0.2 0.2 0.4 0.3 0.1 0.4 -> 3.5 + 6 + 5 = 14.5 of 18.
    // Class 2: positives 0.6, 0.3, 0.8 vs 0.1 0.6 0.25 0.1 0.1 0.2 -> 5.5 + 5 + 6 = 16.5 of 18.
    const s = new Scorer({ metrics: ['roc_auc'] }).score(B_GOLDS, B_PREDS, B_PROBS);
    expect(s.roc_auc).toBeCloseTo(48 / 54, 12);
  });

  it('multiclass averages over the classes present in golds', () => {
    // Golds only hold 0 and 2 (class 1 has no positive, so no curve): class 0 -> positives 0.7, 0.2
    // vs negatives 0.1, 0.5 -> (2 + 1) / 4; class 2 -> positives 0.5, 0.2 vs 0.1, 0.1 -> 4 / 4. Mean 0.875.
    const probs = [
      [0.7, 0.2, 0.1],
      [0.2, 0.7, 0.1],
      [0.1, 0.4, 0.5],
      [0.5, 0.4, 0.2],
    ];
    const s = new Scorer({ metrics: ['roc_auc'] }).score([0, 0, 2, 2], [0, 0, 2, 2], probs);
    expect(s.roc_auc).toBeCloseTo(0.875, 12);
  });

  it('multi-label: macro over label columns that hold both values', () => {
    const golds = [
      [1, 0, 1],
      [0, 0, 1],
      [1, 0, 0],
    ];
    const probs = [
      [0.9, 0.5, 0.2],
      [0.1, 0.1, 0.7],
      [0.7, 0.3, 0.4],
    ];
    // Label 0: positives 0.9, 0.7 vs 0.1 -> 1; label 1: no positive, left out; label 2: 0.2, 0.7 vs 0.4 -> 1/2.
    const s = new Scorer({ metrics: ['roc_auc'] }).score(golds, golds, probs);
    expect(s.roc_auc).toBeCloseTo(0.75, 12);
  });

  it('a single class is undefined: 0 by default, METRIC_UNDEFINED on request', () => {
    expect(new Scorer({ metrics: ['roc_auc'] }).score([1, 1, 1], [1, 1, 0], [0.2, 0.9, 0.4]).roc_auc).toBe(0);
    const e = thrown(() =>
      new Scorer({ metrics: ['roc_auc'], onUndefined: 'error' }).score([1, 1, 1], [1, 1, 0], [0.2, 0.9, 0.4]),
    );
    expect(isMtlError(e, 'METRIC_UNDEFINED')).toBe(true);
    expect((e as Error).message).toBe('roc_auc: undefined on these rows: golds hold a single class');
  });
});

describe('top-k accuracy', () => {
  it('counts the gold among the k highest probs, ties going to the lower class id', () => {
    const s = new Scorer({ metrics: ['accuracy@1', 'accuracy@2', { name: 'top_k_accuracy', k: 3 }] }).score(
      B_GOLDS,
      B_PREDS,
      B_PROBS,
    );
    // Gold ranks per row: 0, 1, 0, 2, 0, 0, 0, 1, 0.
    expect(s['accuracy@1']).toBeCloseTo(6 / 9, 12);
    expect(s['accuracy@2']).toBeCloseTo(8 / 9, 12);
    expect(s['accuracy@3']).toBe(1);
  });

  it('needs k', () => {
    expect(() => new Scorer({ metrics: ['top_k_accuracy'] })).toThrow(
      "metric top_k_accuracy: parameter k is required (write 'accuracy@<k>')",
    );
    expect(() => new Scorer({ metrics: ['accuracy@0'] })).toThrow(
      'parameter k must be an integer, >= 1; got 0',
    );
    expect(() => new Scorer({ metrics: ['accuracy@1.5'] })).toThrow(/must be an integer/);
  });
});

describe('log_loss', () => {
  it('binary (sklearn log_loss: 0.5229710923226967)', () => {
    // P(gold) per row: 0.9 0.9 0.4 0.7 0.8 0.6 0.4 0.35; -mean ln = 4.183768738581574 / 8.
    const s = new Scorer({ metrics: ['log_loss'] }).score(A_GOLDS, A_PREDS, A_ROWS);
    expect(s.log_loss).toBeCloseTo(0.5229710923226967, 12);
  });

  it('multiclass (0.726127110638339)', () => {
    // P(gold) per row: 0.7 0.3 0.6 0.3 0.5 0.6 0.8 0.4 0.4.
    const s = new Scorer({ metrics: ['log_loss'] }).score(B_GOLDS, B_PREDS, B_PROBS);
    expect(s.log_loss).toBeCloseTo(0.726127110638339, 12);
  });

  it('clips probabilities to [eps, 1 - eps], eps = 1e-15 unless given', () => {
    const s = new Scorer({ metrics: ['log_loss', { name: 'log_loss', eps: 1e-3 }] }).score(
      [1, 0],
      [1, 0],
      [0, 0],
    );
    // Row 0 gives P(gold) = 0 -> eps; row 1 gives 1 -> 1 - eps.
    expect(s.log_loss).toBeCloseTo((-Math.log(1e-15) - Math.log(1 - 1e-15)) / 2, 10);
    expect(s['log_loss[eps=0.001]']).toBeCloseTo((-Math.log(1e-3) - Math.log(1 - 1e-3)) / 2, 12);
  });
});

describe('brier', () => {
  it('binary: mean (p1 - y)^2 (sklearn brier_score_loss: 0.1815625)', () => {
    // 0.01 + 0.01 + 0.36 + 0.09 + 0.04 + 0.16 + 0.36 + 0.4225 = 1.4525, / 8.
    const s = new Scorer({ metrics: ['brier'] }).score(A_GOLDS, A_PREDS, A_P1);
    expect(s.brier).toBeCloseTo(0.1815625, 12);
  });

  it('multiclass: mean over rows of the squared distance to the one-hot gold', () => {
    // Row 0: 0.3^2 + 0.2^2 + 0.1^2 = 0.14, ...; total 3.855 / 9.
    const s = new Scorer({ metrics: ['brier'] }).score(B_GOLDS, B_PREDS, B_PROBS);
    expect(s.brier).toBeCloseTo(0.42833333333333334, 12);
  });

  it('probabilities must lie in [0, 1]', () => {
    const e = thrown(() => new Scorer({ metrics: ['brier'] }).score([0, 1], [0, 1], [0.2, 1.5]));
    expect(isMtlError(e, 'DATA_INVALID')).toBe(true);
    expect((e as Error).message).toBe('probs[1]: 1.5 is not a probability in [0, 1]');
  });
});

describe('ece', () => {
  it('binary, 10 bins (lo, hi]: 0.19375', () => {
    // Confidence max(p, 1 - p) and argmax right?: bin (0.5, 0.6]: 0.6 x, 0.6 ok, 0.6 x -> 3/8 * |1/3 - 0.6|;
    // (0.6, 0.7]: 0.7 ok, 0.65 x -> 2/8 * |0.5 - 0.675|; (0.7, 0.8]: 0.8 ok -> 1/8 * 0.2;
    // (0.8, 0.9]: 0.9 ok twice -> 2/8 * 0.1. Sum 0.1 + 0.04375 + 0.025 + 0.025.
    // 0.7 sits on an edge (0.7 * 10 rounds to 7.000000000000001) and must land in (0.6, 0.7].
    const s = new Scorer({ metrics: ['ece'] }).score(A_GOLDS, A_PREDS, A_P1);
    expect(s.ece).toBeCloseTo(0.19375, 12);
  });

  it('the number of bins is a parameter (ece@2: one bin holds every row)', () => {
    // (0.5, 1]: mean confidence 5.75 / 8 = 0.71875, accuracy 5/8: |0.625 - 0.71875|.
    const s = new Scorer({ metrics: ['ece@2', { name: 'ece', bins: 10 }] }).score(A_GOLDS, A_PREDS, A_P1);
    expect(s['ece@2']).toBeCloseTo(0.09375, 12);
    expect(s.ece).toBeCloseTo(0.19375, 12);
  });

  it('multiclass: 0.1', () => {
    // (0.3, 0.4]: 0.4 x, 0.4 ok -> 2/9 * 0.1; (0.4, 0.5]: 0.5 ok, 0.5 x -> 0;
    // (0.5, 0.6]: three rows at 0.6, two right -> 3/9 * 0.0667; (0.6, 0.7]: 1/9 * 0.3; (0.7, 0.8]: 1/9 * 0.2.
    const s = new Scorer({ metrics: ['ece'] }).score(B_GOLDS, B_PREDS, B_PROBS);
    expect(s.ece).toBeCloseTo(0.1, 12);
  });
});

describe('probs are checked', () => {
  it('metrics that need probs say so, naming the metric', () => {
    for (const metric of ['roc_auc', 'log_loss', 'brier', 'ece', 'accuracy@2']) {
      const e = thrown(() => new Scorer({ metrics: ['accuracy', metric] }).score([0, 1], [0, 1]));
      expect(isMtlError(e, 'INVALID_ARGUMENT')).toBe(true);
      expect((e as { place: string }).place).toBe(metric);
      expect((e as Error).message).toBe(
        `${metric}: this metric needs probs: call score(golds, preds, probs)`,
      );
    }
  });

  it('a gold class beyond the columns is LABEL_OUT_OF_RANGE', () => {
    const e = thrown(() => new Scorer({ metrics: ['log_loss'] }).score([0, 3], [0, 1], B_PROBS.slice(0, 2)));
    expect(isMtlError(e, 'LABEL_OUT_OF_RANGE')).toBe(true);
    expect((e as Error).message).toBe('golds[1]: class 3 but probs have 3 columns (classes 0..2)');
  });

  it('rows of unequal width, NaN and a wrong row count are refused with the place', () => {
    const s = new Scorer({ metrics: ['log_loss'] });
    expect(() => s.score([0, 1], [0, 1], [[0.5, 0.5], [1]])).toThrow(
      'probs[1]: row has 1 columns but row 0 has 2',
    );
    expect(() =>
      s.score(
        [0, 1],
        [0, 1],
        [
          [0.5, 0.5],
          [Number.NaN, 1],
        ],
      ),
    ).toThrow('probs[1][0]: value is NaN');
    expect(() => s.score([0, 1], [0, 1], [[0.5, 0.5]])).toThrow('probs: probs have 1 rows but golds have 2');
  });

  it('takes Float32Array rows (subarrays of one buffer)', () => {
    const flat = Float32Array.from(B_PROBS.flat());
    const rows = B_GOLDS.map((_, i) => flat.subarray(i * 3, i * 3 + 3));
    const s = new Scorer({ metrics: ['roc_auc', 'accuracy@2'] }).score(
      Int32Array.from(B_GOLDS),
      B_PREDS,
      rows,
    );
    expect(s.roc_auc).toBeCloseTo(48 / 54, 12);
    expect(s['accuracy@2']).toBeCloseTo(8 / 9, 12);
  });
});
