import { caught } from '@mtl/core/testing';
import { describe, expect, it } from 'vitest';
import { Scorer } from './scorer.js';

describe('Scorer', () => {
  it('defaults to accuracy and returns keys in the order asked', () => {
    expect(new Scorer().score([0, 1, 1], [0, 1, 0])).toEqual({ accuracy: 2 / 3 });
    const s = new Scorer({ metrics: ['f1', 'accuracy', 'accuracy@2'] });
    expect(s.metricKeys).toEqual(['f1', 'accuracy', 'accuracy@2']);
    expect(s.needsProbs).toBe(true);
    expect(Object.keys(s.score([0, 1], [0, 1], [0.2, 0.7]))).toEqual(['f1', 'accuracy', 'accuracy@2']);
  });

  it('drops rows whose gold or pred abstains, except for coverage', () => {
    // Rows 1 (pred -1) and 2 (gold -1) are dropped: rows 0 and 3 are right -> accuracy 1.
    // Coverage counts every row: preds 0, -1, 1, 1 -> 3 of 4.
    const s = new Scorer({ metrics: ['accuracy', 'coverage', 'f1'] }).score([0, 1, -1, 1], [0, -1, 1, 1]);
    expect(s).toEqual({ accuracy: 1, coverage: 0.75, f1: 1 });
  });

  it('uses the abstain label it is given', () => {
    const s = new Scorer({ metrics: ['accuracy', 'coverage'], abstainLabel: 9 }).score([0, 9, 1], [0, 1, 9]);
    expect(s).toEqual({ accuracy: 1, coverage: 2 / 3 });
  });

  it('all rows abstaining is ALL_ABSTAIN', () => {
    const e = caught(() => new Scorer({ metrics: ['accuracy', 'coverage'] }).score([-1, 0], [1, -1]));
    expect(e.code).toBe('ALL_ABSTAIN');
    expect(e.message).toBe(
      'Scorer.score: all 2 rows abstain (gold or pred = -1, or a missing (NaN) gold); nothing to score for accuracy',
    );
    // coverage alone still has a meaning: no prediction covered.
    expect(new Scorer({ metrics: ['coverage'] }).score([0, 1], [-1, -1])).toEqual({ coverage: 0 });
  });

  it('an unknown metric is UNKNOWN_METRIC listing the known ones', () => {
    const e = caught(() => new Scorer({ metrics: ['acuracy'] }));
    expect(e.code).toBe('UNKNOWN_METRIC');
    expect(e.message).toBe(
      'metric acuracy: unknown metric "acuracy"; known: abstained, accuracy, accuracy@k, brier, coverage, ece, ece@bins, ' +
        'f1, f1_macro, f1_micro, fbeta, fbeta@beta, log_loss, mae, matthews_corrcoef, mse, pearson, precision, ' +
        'r2, recall, roc_auc, scored, spearman, top_k_accuracy',
    );
    expect(caught(() => new Scorer({ metrics: ['nope@3'] })).code).toBe('UNKNOWN_METRIC');
    expect(caught(() => new Scorer({ metrics: [{ name: 'accuracy', k: 2 }] })).message).toMatch(
      /unknown parameter k; accuracy takes \(none\) \(top-k accuracy is 'accuracy@k'/,
    );
  });

  it('refuses the same key twice, and lets a spec choose its key', () => {
    const e = caught(() => new Scorer({ metrics: ['fbeta', { name: 'fbeta', beta: 1 }] }));
    expect(e.code).toBe('DUPLICATE_NAME');
    expect(e.message).toBe('Scorer.metrics: metric fbeta is asked for twice (give one a different key)');
    expect(
      caught(() => new Scorer({ metrics: ['accuracy'], customMetrics: { accuracy: () => 1 } })).code,
    ).toBe('DUPLICATE_NAME');
    const s = new Scorer({ metrics: ['f1', { name: 'fbeta', beta: 1, key: 'f1_again' }] });
    expect(s.score([0, 1, 1], [0, 1, 0])).toEqual({ f1: 2 / 3, f1_again: 2 / 3 });
    expect(caught(() => new Scorer({ metrics: [{ name: 'f1', key: 'a/b' }] })).code).toBe('INVALID_ARGUMENT');
  });

  it('validates lengths, shapes and values with the place', () => {
    const s = new Scorer();
    expect(caught(() => s.score([0, 1], [0])).message).toBe('preds: golds have 2 rows but preds have 1');
    expect(caught(() => s.score([], [])).code).toBe('DATA_EMPTY');
    expect(caught(() => s.score([0, 1], [0, Number.NaN])).message).toBe('preds[1]: value is NaN');
    expect(caught(() => s.score([0, Number.POSITIVE_INFINITY], [0, 1])).message).toBe(
      'golds[1]: value is Infinity',
    );
    expect(caught(() => s.score([0, 1.5], [0, 1])).message).toBe(
      'golds[1]: a class id must be an integer >= 0, got 1.5',
    );
    expect(caught(() => s.score([0, 1], [0, -2])).code).toBe('LABEL_OUT_OF_RANGE');
    expect(caught(() => s.score([[0, 1]], [1])).message).toBe(
      'preds: golds have rows of 2 labels but preds have one label per row',
    );
    expect(
      caught(() =>
        s.score(
          [[0, 1], [1]],
          [
            [0, 1],
            [1, 1],
          ],
        ),
      ).message,
    ).toBe('golds[1]: row has 1 labels but row 0 has 2');
  });

  it('custom metrics: one value under their name, or several named values', () => {
    const scorer = new Scorer({
      metrics: ['accuracy'],
      customMetrics: {
        n_rows: (golds) => golds.length,
        counts: (golds, preds) => {
          const g = golds as ArrayLike<number>;
          const p = preds as ArrayLike<number>;
          let wrong = 0;
          for (let i = 0; i < g.length; i++) if (g[i] !== p[i]) wrong++;
          return { wrong, right: g.length - wrong };
        },
      },
    });
    expect(scorer.metricKeys).toEqual(['accuracy', 'n_rows', 'counts']);
    // The abstaining row 3 is dropped before custom metrics see the rows.
    expect(scorer.score([0, 1, 1, -1], [0, 1, 0, 1])).toEqual({
      accuracy: 2 / 3,
      n_rows: 3,
      wrong: 1,
      right: 2,
    });
  });

  it('custom metrics see probs as given (filtered) and their errors name them', () => {
    let seen: unknown;
    new Scorer({
      customMetrics: {
        look: (_g, _p, probs) => {
          seen = probs;
          return 0;
        },
      },
    }).score(
      [0, -1, 1],
      [0, 1, 1],
      [
        [0.9, 0.1],
        [0.5, 0.5],
        [0.2, 0.8],
      ],
    );
    expect(seen).toEqual([
      [0.9, 0.1],
      [0.2, 0.8],
    ]);
    const bad = (f: () => number | Record<string, number>) => new Scorer({ customMetrics: { bad: f } });
    expect(caught(() => bad(() => Number.NaN).score([0], [0])).message).toBe(
      'custom metric bad: returned NaN for bad',
    );
    expect(caught(() => bad(() => ({ 'a/b': 1 })).score([0], [0])).code).toBe('INVALID_ARGUMENT');
    expect(
      caught(() =>
        new Scorer({ metrics: ['accuracy'], customMetrics: { x: () => ({ accuracy: 1 }) } }).score([0], [0]),
      ).code,
    ).toBe('DUPLICATE_NAME');
    const e = caught(() =>
      bad(() => {
        throw new TypeError('boom');
      }).score([0], [0]),
    );
    expect(e.code).toBe('INTERNAL');
    expect(e.message).toBe('custom metric bad: boom');
  });

  it('probs no metric reads are not checked, but must have a row per gold', () => {
    expect(new Scorer().score([0, 1], [0, 1], [[Number.NaN], [2]])).toEqual({ accuracy: 1 });
    expect(caught(() => new Scorer().score([0, 1], [0, 1], [[0.5, 0.5]])).message).toBe(
      'probs: probs have 1 rows but golds have 2',
    );
  });

  it('getConfig gives back the JSON-able options', () => {
    const s = new Scorer({ metrics: ['accuracy', { name: 'fbeta', beta: 2 }], onUndefined: 'error' });
    const config = s.getConfig();
    expect(config).toEqual({
      metrics: ['accuracy', { name: 'fbeta', beta: 2 }],
      abstainLabel: -1,
      onUndefined: 'error',
    });
    expect(new Scorer(JSON.parse(JSON.stringify(config))).metricKeys).toEqual(['accuracy', 'fbeta@2']);
  });

  it('refuses options that make no sense', () => {
    expect(caught(() => new Scorer({ metrics: [] })).message).toBe('Scorer.metrics: no metric to compute');
    expect(caught(() => new Scorer({ abstainLabel: Number.NaN })).code).toBe('INVALID_ARGUMENT');
    expect(caught(() => new Scorer({ customMetrics: { 'a/b': () => 1 } })).code).toBe('INVALID_ARGUMENT');
  });

  it('a missing (NaN) gold abstains for every metric, whatever the abstain label; scored + abstained count the rows', () => {
    const reg = new Scorer({
      metrics: ['mse', 'mae', 'scored', 'abstained', 'coverage'],
      abstainLabel: null,
    });
    // Rows 1 and 3 have no target: the metrics are those of rows 0, 2, 4 alone.
    const all = reg.score([1, Number.NaN, 3, Number.NaN, -1], [2, 7, 3, 9, 1]);
    const labelled = reg.score([1, 3, -1], [2, 3, 1]);
    expect(all).toEqual({ ...labelled, scored: 3, abstained: 2, coverage: 1 });
    expect(all.mse).toBeCloseTo((1 + 0 + 4) / 3, 12);
    // Multi-target rows: a row with any missing target is left out.
    const counts = new Scorer({ metrics: ['scored', 'abstained'], abstainLabel: null });
    const wide = counts.score(
      [
        [1, 2],
        [Number.NaN, 0],
        [0, 0],
      ],
      [
        [1, 2],
        [5, 5],
        [1, 1],
      ],
    );
    expect(wide).toEqual({ scored: 2, abstained: 1 });
    const cls = new Scorer({ metrics: ['accuracy', 'scored', 'abstained'] });
    expect(cls.score([0, -1, 1, 1], [0, 1, 0, 1])).toEqual({ accuracy: 2 / 3, scored: 3, abstained: 1 });
    expect(caught(() => reg.score([Number.NaN, Number.NaN], [1, 2])).message).toBe(
      'Scorer.score: all 2 rows abstain (a missing (NaN) gold); nothing to score for mae, mse',
    );
  });
});
