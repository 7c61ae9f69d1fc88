import { isMtlError } from '@mtl/core/base';
import { describe, expect, it } from 'vitest';
import { Scorer } from '../scorer.js';

const regression = (metrics: string[], onUndefined: 'zero' | 'error' = 'zero') =>
  new Scorer({ metrics, abstainLabel: null, onUndefined });

describe('regression metrics', () => {
  // sklearn's documentation example: y_true = [3, -0.5, 2, 7], y_pred = [2.5, 0.0, 2, 8].
  const golds = [3, -0.5, 2, 7];
  const preds = [2.5, 0.0, 2, 8];

  it('mse, mae, r2 match sklearn (0.375, 0.5, 0.9486081370449679)', () => {
    const s = regression(['mse', 'mae', 'r2']).score(golds, preds);
    expect(s.mse).toBeCloseTo(0.375, 12); // (0.25 + 0.25 + 0 + 1) / 4
    expect(s.mae).toBeCloseTo(0.5, 12); // (0.5 + 0.5 + 0 + 1) / 4
    // SS_res = 1.5; mean 2.875, SS_tot = 0.015625 + 11.390625 + 0.765625 + 17.015625 = 29.1875.
    expect(s.r2).toBeCloseTo(1 - 1.5 / 29.1875, 12);
    expect(s.r2).toBeCloseTo(0.9486081370449679, 12);
  });

  it('pearson: S_xy / sqrt(S_xx S_yy) = 31.5625 / sqrt(29.1875 * 35.1875)', () => {
    const s = regression(['pearson', 'spearman']).score(golds, preds);
    expect(s.pearson).toBeCloseTo(0.9848696184482703, 12);
    expect(s.spearman).toBeCloseTo(1, 12); // golds and preds both rank [3, 1, 2, 4]
  });

  it('spearman uses average ranks for ties (scipy spearmanr: 0.9486832980505139)', () => {
    // Ranks of golds [1, 2, 2, 3] are [1, 2.5, 2.5, 4]; of preds [1, 3, 2, 4] are [1, 3, 2, 4];
    // Pearson of the ranks: 4.5 / sqrt(4.5 * 5).
    expect(regression(['spearman']).score([1, 2, 2, 3], [1, 3, 2, 4]).spearman).toBeCloseTo(
      0.9486832980505139,
      12,
    );
  });

  it('-1 is a real target when abstainLabel is null, an abstain by default', () => {
    expect(regression(['mae']).score([-1, 1], [0, 1]).mae).toBe(0.5);
    expect(new Scorer({ metrics: ['mae'] }).score([-1, 1], [0, 1]).mae).toBe(0);
  });

  it('constant golds or preds are undefined: 0 by default, METRIC_UNDEFINED on request', () => {
    // 0.1 summed three times is not 0.3: the check is on the values, not on a variance of 1e-33.
    const constant = [0.1, 0.1, 0.1];
    for (const metric of ['r2', 'pearson', 'spearman']) {
      expect(regression([metric]).score(constant, [0.1, 0.1, 0.1])[metric]).toBe(0);
      expect(regression([metric]).score(constant, [0, 1, 2])[metric]).toBe(0);
      try {
        regression([metric], 'error').score(constant, [0, 1, 2]);
        expect.unreachable();
      } catch (e) {
        expect(isMtlError(e, 'METRIC_UNDEFINED')).toBe(true);
        expect((e as Error).message).toBe(
          `${metric}: undefined on these rows: golds ${metric === 'r2' ? 'are' : 'or preds are'} constant`,
        );
      }
    }
    expect(regression(['pearson']).score([0, 1, 2], [5, 5, 5]).pearson).toBe(0);
  });

  it('non-finite values are refused with their row', () => {
    expect(() => regression(['mse']).score([1, Number.POSITIVE_INFINITY], [1, 2])).toThrow(
      'golds[1]: value is Infinity',
    );
  });
});
