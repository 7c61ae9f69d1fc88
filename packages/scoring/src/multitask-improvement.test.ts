import { isMtlError } from '@mtl/core/base';
import { describe, expect, it } from 'vitest';
import { multitaskImprovement } from './multitask-improvement.js';

describe('multitaskImprovement', () => {
  const multitask = {
    'seg/city/test/accuracy': 0.9,
    'seg/city/test/f1_macro': 0.6,
    'depth/city/test/mae': 0.4,
    'depth/city/test/r2': 0.7,
    'seg/city/valid/accuracy': 0.1, // another split: ignored
    'model/all/test/loss': 0.3, // model-wide: not a task
  };
  const single = {
    'seg/city/test/accuracy': 0.8,
    'seg/city/test/f1_macro': 0.75,
    'depth/city/test/mae': 0.5,
    'depth/city/test/r2': 0.5,
    'seg/city/valid/accuracy': 0.9,
    'model/all/test/loss': 0.2,
  };

  it('averages signed relative changes per task, then over tasks (LibMTL formula)', () => {
    const r = multitaskImprovement(multitask, single, { split: 'test' });
    // seg: accuracy (0.9 - 0.8) / 0.8 = +0.125; f1_macro (0.6 - 0.75) / 0.75 = -0.2 -> mean -0.0375.
    // depth: mae lower is better: -(0.4 - 0.5) / 0.5 = +0.2; r2 (0.7 - 0.5) / 0.5 = +0.4 -> mean 0.3.
    // Δm = (-0.0375 + 0.3) / 2 = 0.13125.
    expect(r.perTask.seg).toBeCloseTo(-0.0375, 12);
    expect(r.perTask.depth).toBeCloseTo(0.3, 12);
    expect(r.deltaM).toBeCloseTo(0.13125, 12);
    expect(r.perKey['depth/city/test/mae']).toBeCloseTo(0.2, 12);
    expect(Object.keys(r.perTask).sort()).toEqual(['depth', 'seg']);
  });

  it('is 0 against itself and flips sign when the roles swap on a single metric', () => {
    expect(multitaskImprovement(single, single, { split: 'test' }).deltaM).toBe(0);
    const a = { 't/d/test/accuracy': 0.5 };
    const b = { 't/d/test/accuracy': 1 };
    expect(multitaskImprovement(a, b, { split: 'test' }).deltaM).toBeCloseTo(-0.5, 12);
    expect(multitaskImprovement(b, a, { split: 'test' }).deltaM).toBeCloseTo(1, 12);
  });

  it('takes directions from overrides (custom metrics) and can restrict the metrics', () => {
    const a = { 't/d/test/my_error': 0.5, 't/d/test/accuracy': 0.5 };
    const b = { 't/d/test/my_error': 1, 't/d/test/accuracy': 0.5 };
    expect(() => multitaskImprovement(a, b, { split: 'test' })).toThrow(
      /no direction known for metric "my_error"/,
    );
    expect(
      multitaskImprovement(a, b, { split: 'test', higherIsBetter: { my_error: false } }).deltaM,
    ).toBeCloseTo(0.25, 12);
    expect(multitaskImprovement(a, b, { split: 'test', metrics: ['accuracy'] }).deltaM).toBe(0);
    // Flattened slice metrics take the direction of their metric.
    expect(
      multitaskImprovement({ 't/d/test/slice:s:mse': 1 }, { 't/d/test/slice:s:mse': 2 }, { split: 'test' })
        .deltaM,
    ).toBeCloseTo(0.5, 12);
  });

  it('errors on a key missing from either map, a zero baseline, or an empty split', () => {
    const missing = { ...multitask, 'extra/city/test/accuracy': 0.5 };
    try {
      multitaskImprovement(missing, single, { split: 'test' });
      expect.unreachable();
    } catch (e) {
      expect(isMtlError(e, 'UNKNOWN_KEY')).toBe(true);
      expect((e as Error).message).toBe(
        'multitaskImprovement baselines: score extra/city/test/accuracy has no single-task baseline',
      );
    }
    expect(() => multitaskImprovement(single, missing, { split: 'test' })).toThrow(
      'multitaskImprovement scores: baseline extra/city/test/accuracy has no multitask score',
    );
    expect(() =>
      multitaskImprovement({ 't/d/test/accuracy': 0.5 }, { 't/d/test/accuracy': 0 }, { split: 'test' }),
    ).toThrow('t/d/test/accuracy: the baseline is 0, so the relative change is undefined');
    expect(() => multitaskImprovement(multitask, single, { split: 'tes' })).toThrow(
      'multitaskImprovement: no task score of split tes to compare; splits present: test, valid',
    );
  });
});
