import { isMtlError } from '@mtl/core/base';
import { afterEach, describe, expect, it } from 'vitest';
import type { MetricDefinition } from './metric.js';
import {
  getMetric,
  listMetrics,
  metricHigherIsBetter,
  registerMetric,
  resolveMetricSpec,
  unregisterMetric,
} from './metric-registry.js';
import { Scorer } from './scorer.js';

const errorRate: MetricDefinition = {
  name: 'test_error_rate',
  description: 'Fraction of wrong predictions.',
  higherIsBetter: false,
  needsProbs: false,
  kind: 'classification',
  multiLabel: false,
  range: [0, 1],
  compute: ({ n, golds, preds }) => {
    let wrong = 0;
    for (let i = 0; i < n; i++) if (golds[i] !== preds[i]) wrong++;
    return wrong / n;
  },
};

afterEach(() => {
  unregisterMetric('test_error_rate');
  unregisterMetric('test_within');
});

describe('metric registry', () => {
  it('describes every built-in metric with its direction and whether it needs probs', () => {
    const table = Object.fromEntries(listMetrics().map((m) => [m.name, [m.higherIsBetter, m.needsProbs]]));
    expect(table).toEqual({
      abstained: [false, false],
      accuracy: [true, false],
      brier: [false, true],
      coverage: [true, false],
      ece: [false, true],
      f1: [true, false],
      f1_macro: [true, false],
      f1_micro: [true, false],
      fbeta: [true, false],
      log_loss: [false, true],
      mae: [false, false],
      matthews_corrcoef: [true, false],
      mse: [false, false],
      pearson: [true, false],
      scored: [true, false],
      precision: [true, false],
      r2: [true, false],
      recall: [true, false],
      roc_auc: [true, true],
      spearman: [true, false],
      top_k_accuracy: [true, true],
    });
    for (const m of listMetrics()) expect(m.description.length).toBeGreaterThan(10);
  });

  it('resolves specs to keys: name, name@param, [param=value], or the key given', () => {
    expect(resolveMetricSpec('ece').key).toBe('ece');
    expect(resolveMetricSpec({ name: 'ece', bins: 10 }).key).toBe('ece');
    expect(resolveMetricSpec({ name: 'ece', bins: 15 }).key).toBe('ece@15');
    expect(resolveMetricSpec('accuracy@3')).toMatchObject({ key: 'accuracy@3', params: { k: 3 } });
    expect(resolveMetricSpec({ name: 'top_k_accuracy', k: 3 }).key).toBe('accuracy@3');
    expect(resolveMetricSpec({ name: 'fbeta', beta: 0.5 }).key).toBe('fbeta@0.5');
    expect(resolveMetricSpec({ name: 'log_loss', eps: 1e-7 }).key).toBe('log_loss[eps=1e-7]');
    expect(resolveMetricSpec({ name: 'fbeta', beta: 2, key: 'f2' }).key).toBe('f2');
    expect(() => resolveMetricSpec({ name: 'fbeta', beta: 0 })).toThrow(
      'metric fbeta: parameter beta must be a number, > 0; got 0',
    );
    expect(() => resolveMetricSpec({ name: 'fbeta', beta: '2' })).toThrow(
      'parameter beta must be a finite number',
    );
    expect(() => resolveMetricSpec('fbeta@')).toThrow('parameter beta must be a finite number, got NaN');
  });

  it('getMetric of an unknown name is UNKNOWN_METRIC with the known names in details', () => {
    try {
      getMetric('acc');
      expect.unreachable();
    } catch (e) {
      expect(isMtlError(e, 'UNKNOWN_METRIC')).toBe(true);
      expect((e as { details: { known: string[] } }).details.known).toContain('accuracy@k');
    }
  });

  it('registerMetric makes a user metric usable by name; built-ins stay', () => {
    registerMetric(errorRate);
    expect(
      new Scorer({ metrics: ['test_error_rate'] }).score([0, 1, 1], [0, 1, 0]).test_error_rate,
    ).toBeCloseTo(1 / 3, 12);
    expect(metricHigherIsBetter('test_error_rate')).toBe(false);
    expect(() => registerMetric(errorRate)).toThrow(/already registered/);
    registerMetric({ ...errorRate, higherIsBetter: true }, { replace: true });
    expect(metricHigherIsBetter('test_error_rate')).toBe(true);
    expect(() => registerMetric({ ...errorRate, name: 'accuracy' })).toThrow(
      'registerMetric accuracy: accuracy is a built-in metric and cannot be replaced',
    );
    expect(() => registerMetric({ ...errorRate, name: 'a/b' })).toThrow(/metric name must be non-empty/);
    expect(() => unregisterMetric('accuracy')).toThrow(/cannot be removed/);
    expect(unregisterMetric('test_error_rate')).toBe(true);
    expect(() => new Scorer({ metrics: ['test_error_rate'] })).toThrow(/unknown metric/);
  });

  it('a user metric can take a parameter with an @ form', () => {
    registerMetric({
      name: 'test_within',
      description: 'Fraction of rows with |pred - gold| <= tol.',
      higherIsBetter: true,
      needsProbs: false,
      kind: 'regression',
      multiLabel: false,
      params: { tol: { description: 'Tolerance.', default: 0, min: 0 } },
      atParam: 'tol',
      atPrefix: 'within',
      compute: ({ n, golds, preds, params }) => {
        let ok = 0;
        for (let i = 0; i < n; i++) if (Math.abs(golds[i] - preds[i]) <= params.tol) ok++;
        return ok / n;
      },
    });
    const s = new Scorer({ metrics: ['test_within', 'within@0.5'], abstainLabel: null }).score(
      [1, 2, 3],
      [1, 2.4, 4],
    );
    expect(s).toEqual({ test_within: 1 / 3, 'within@0.5': 2 / 3 });
    expect(metricHigherIsBetter('within@0.5')).toBe(true);
    expect(() =>
      registerMetric({
        ...errorRate,
        name: 'test_error_rate',
        params: { k: { description: 'k' } },
        atParam: 'k',
        atPrefix: 'accuracy',
      }),
    ).toThrow(/accuracy@\.\.\. already means metric top_k_accuracy/);
  });

  it('metricHigherIsBetter knows registry metrics, parameterised keys, loss, and overrides', () => {
    expect(metricHigherIsBetter('accuracy')).toBe(true);
    expect(metricHigherIsBetter('accuracy@5')).toBe(true);
    expect(metricHigherIsBetter('fbeta@2')).toBe(true);
    expect(metricHigherIsBetter('ece@15')).toBe(false);
    expect(metricHigherIsBetter('log_loss[eps=1e-7]')).toBe(false);
    expect(metricHigherIsBetter('loss')).toBe(false);
    expect(metricHigherIsBetter('accuracy', { accuracy: false })).toBe(false);
    expect(() => metricHigherIsBetter('my_metric')).toThrow(/no direction known for metric "my_metric"/);
  });
});
