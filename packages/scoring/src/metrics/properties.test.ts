import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Scorer } from '../scorer.js';

interface Case {
  golds: number[];
  preds: number[];
  probs: number[][];
}

/** n rows of C classes; probs from integer weights so that rows are exact and ties are common. */
const classification = (minClasses = 2, maxClasses = 4): fc.Arbitrary<Case> =>
  fc
    .record({ n: fc.integer({ min: 1, max: 40 }), c: fc.integer({ min: minClasses, max: maxClasses }) })
    .chain(({ n, c }) =>
      fc.record({
        golds: fc.array(fc.integer({ min: 0, max: c - 1 }), { minLength: n, maxLength: n }),
        preds: fc.array(fc.integer({ min: 0, max: c - 1 }), { minLength: n, maxLength: n }),
        probs: fc.array(
          fc.array(fc.integer({ min: 0, max: 10 }), { minLength: c, maxLength: c }).map((w) => {
            const total = w.reduce((a, b) => a + b, 0) + c;
            return w.map((v) => (v + 1) / total);
          }),
          { minLength: n, maxLength: n },
        ),
      }),
    );

const permutation = (n: number): fc.Arbitrary<number[]> =>
  fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: n, maxLength: n }).map((keys) =>
    keys
      .map((k, i) => [k, i] as const)
      .sort((a, b) => a[0] - b[0] || a[1] - b[1])
      .map(([, i]) => i),
  );

const MULTICLASS = [
  'accuracy',
  'f1_micro',
  'f1_macro',
  'matthews_corrcoef',
  'roc_auc',
  'accuracy@2',
  'log_loss',
  'brier',
  'ece',
  'coverage',
];
const BINARY = ['precision', 'recall', 'f1', 'fbeta@2', ...MULTICLASS];
const REGRESSION = ['mse', 'mae', 'r2', 'pearson', 'spearman'];

const multiclass = new Scorer({ metrics: MULTICLASS });
const binary = new Scorer({ metrics: BINARY });
const regression = new Scorer({ metrics: REGRESSION, abstainLabel: null });

/** O(n^2) reference: the fraction of (positive, negative) pairs ranked right, ties 1/2. */
function pairwiseAuc(golds: number[], scores: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < golds.length; i++) {
    for (let j = 0; j < golds.length; j++) {
      if (golds[i] === 1 && golds[j] === 0) {
        pairs++;
        wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
    }
  }
  return wins / pairs;
}

describe('metric laws (fast-check)', () => {
  it('bounds: [0, 1] for rates, [-1, 1] for MCC, [0, 2] for multiclass Brier, log_loss >= 0', () => {
    fc.assert(
      fc.property(classification(), fc.boolean(), (c, asBinary) => {
        const golds = asBinary ? c.golds.map((g) => g % 2) : c.golds;
        const preds = asBinary ? c.preds.map((p) => p % 2) : c.preds;
        const probs = asBinary ? c.probs.map((r) => [r[0], 1 - r[0]]) : c.probs;
        const s = (asBinary ? binary : multiclass).score(golds, preds, probs);
        for (const [key, value] of Object.entries(s)) {
          expect(Number.isFinite(value)).toBe(true);
          const [lo, hi] =
            key === 'matthews_corrcoef'
              ? [-1, 1]
              : key === 'log_loss'
                ? [0, 40]
                : key === 'brier'
                  ? [0, 2]
                  : [0, 1];
          expect(value).toBeGreaterThanOrEqual(lo);
          expect(value).toBeLessThanOrEqual(hi);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('permutation invariance of row order', () => {
    fc.assert(
      fc.property(
        classification().chain((c) => fc.tuple(fc.constant(c), permutation(c.golds.length))),
        ([c, order]) => {
          const before = multiclass.score(c.golds, c.preds, c.probs);
          const after = multiclass.score(
            order.map((i) => c.golds[i]),
            order.map((i) => c.preds[i]),
            order.map((i) => c.probs[i]),
          );
          for (const key of Object.keys(before)) expect(after[key]).toBeCloseTo(before[key], 10);
          const reg = regression.score(
            c.probs.map((r) => r[0]),
            c.probs.map((r) => r[1]),
          );
          const regAfter = regression.score(
            order.map((i) => c.probs[i][0]),
            order.map((i) => c.probs[i][1]),
          );
          for (const key of Object.keys(reg)) expect(regAfter[key]).toBeCloseTo(reg[key], 10);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('golds == preds: accuracy, F1 micro and macro are 1; MCC is 1 when two classes are present', () => {
    fc.assert(
      fc.property(classification(), (c) => {
        const s = multiclass.score(c.golds, c.golds, c.probs);
        expect(s.accuracy).toBe(1);
        expect(s.f1_micro).toBe(1);
        expect(s.f1_macro).toBe(1);
        expect(s.matthews_corrcoef).toBeCloseTo(new Set(c.golds).size > 1 ? 1 : 0, 12);
      }),
    );
  });

  it('single-label f1_micro equals accuracy', () => {
    fc.assert(
      fc.property(classification(2, 6), (c) => {
        const s = multiclass.score(c.golds, c.preds, c.probs);
        expect(s.f1_micro).toBeCloseTo(s.accuracy, 12);
      }),
    );
  });

  it('binary roc_auc equals the pairwise count, and reversing the scores gives 1 - AUC', () => {
    fc.assert(
      fc.property(classification(2, 2), (c) => {
        const p1 = c.probs.map((r) => r[1]);
        fc.pre(c.golds.includes(0) && c.golds.includes(1));
        const s = multiclass.score(c.golds, c.preds, c.probs);
        expect(s.roc_auc).toBeCloseTo(pairwiseAuc(c.golds, p1), 12);
        const flipped = multiclass.score(
          c.golds,
          c.preds,
          p1.map((p) => 1 - p),
        );
        expect(flipped.roc_auc).toBeCloseTo(1 - s.roc_auc, 12);
      }),
    );
  });

  it('regression: mse, mae >= 0, r2 <= 1, pearson and spearman in [-1, 1]; spearman ignores monotone maps', () => {
    const reals = fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 2, maxLength: 40 });
    fc.assert(
      fc.property(reals, reals, (a, b) => {
        const n = Math.min(a.length, b.length);
        const golds = a.slice(0, n);
        const preds = b.slice(0, n);
        const s = regression.score(golds, preds);
        expect(s.mse).toBeGreaterThanOrEqual(0);
        expect(s.mae).toBeGreaterThanOrEqual(0);
        expect(s.r2).toBeLessThanOrEqual(1);
        for (const key of ['pearson', 'spearman']) {
          expect(s[key]).toBeGreaterThanOrEqual(-1);
          expect(s[key]).toBeLessThanOrEqual(1);
        }
        const cubed = regression.score(
          golds,
          preds.map((p) => p * p * p + p),
        );
        expect(cubed.spearman).toBeCloseTo(s.spearman, 12);
      }),
      { numRuns: 200 },
    );
  });

  it('stays O(n log n): 200 000 rows of roc_auc and spearman finish (a quadratic loop would not)', () => {
    const n = 200_000;
    const golds = Array.from({ length: n }, (_, i) => (i * 7919) % 2);
    const scores = Array.from({ length: n }, (_, i) => ((i * 104729) % 1000) / 1000);
    const s = new Scorer({ metrics: ['roc_auc'] }).score(golds, golds, scores);
    expect(s.roc_auc).toBeGreaterThan(0);
    const r = new Scorer({ metrics: ['spearman'], abstainLabel: null }).score(scores, scores);
    expect(r.spearman).toBeCloseTo(1, 12);
  });
});
