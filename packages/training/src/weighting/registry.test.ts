import { caught } from '@mtl/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { AGGREGATOR_NAMES } from '../aggregators.js';
import { aggregatorSchema, createAggregator, WEIGHTING_METHOD_NAMES, WEIGHTING_METHODS } from './registry.js';

const tasks = ['a', 'b', 'c'];

describe('weighting registry', () => {
  it('has at least 20 methods, AGGREGATOR_NAMES is its list, weightedSum first', () => {
    expect(WEIGHTING_METHOD_NAMES.length).toBeGreaterThanOrEqual(20);
    expect([...AGGREGATOR_NAMES]).toEqual(WEIGHTING_METHOD_NAMES);
    expect(AGGREGATOR_NAMES[0]).toBe('weightedSum');
    expect(aggregatorSchema.options.map((o) => o.shape.method.value)).toEqual(WEIGHTING_METHOD_NAMES);
  });

  it.each(WEIGHTING_METHOD_NAMES)(
    '%s builds with defaults at its level, with the hook that level needs',
    (name) => {
      const agg = createAggregator({ method: name }, { tasks });
      expect(agg.name).toBe(name);
      expect(agg.level).toBe(WEIGHTING_METHODS[name].level);
      if (agg.level === 'loss') expect(typeof agg.combine).toBe('function');
      else {
        expect(typeof agg.aggregate).toBe('function');
        // MGDA-UB is MGDA on the representation; every other method defaults to the parameters.
        expect(agg.gradientOf).toBe(name === 'mgdaUb' ? 'representation' : 'parameters');
      }
      expect(Boolean(agg.getState) === Boolean(agg.setState)).toBe(true);
      agg.dispose?.();
    },
  );

  it('needsEveryTask: every gradient-level method and the loss-level ones with per-task state', () => {
    const needing = WEIGHTING_METHOD_NAMES.filter((n) => WEIGHTING_METHODS[n].needsEveryTask);
    expect(needing.filter((n) => WEIGHTING_METHODS[n].level === 'loss')).toEqual([
      'uncertainty',
      'dwa',
      'rlw',
      'famo',
      'imtlL',
    ]);
    for (const n of WEIGHTING_METHOD_NAMES) {
      if (WEIGHTING_METHODS[n].level === 'gradient')
        expect(WEIGHTING_METHODS[n].needsEveryTask, n).toBe(true);
    }
  });

  it.each(WEIGHTING_METHOD_NAMES.filter((n) => WEIGHTING_METHODS[n].level === 'loss'))(
    '%s combines a step of one task exactly when the registry says it does not need every task',
    (name) => {
      const agg = createAggregator({ method: name }, { tasks });
      const before = tf.memory().numTensors;
      const step = () =>
        tf.tidy(() => {
          agg.combine!([tf.scalar(0.5)], { step: 0, epoch: 0, seed: 1, tasks: ['b'] });
        });
      if (WEIGHTING_METHODS[name].needsEveryTask) expect(step).toThrow(/needs the losses of every task/);
      else expect(step).not.toThrow();
      expect(tf.memory().numTensors).toBe(before);
      agg.dispose?.();
    },
  );

  it('an unknown method: CONFIG_INVALID at weighting.method, listing the known ones', () => {
    const e = caught(() => createAggregator({ method: 'pcgard' }, { tasks }));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.place).toBe('weighting.method');
    expect(e.message).toContain('"pcgard"');
    expect(e.message).toContain('pcgrad');
  });

  it('a bad option names the method and the option path', () => {
    const e = caught(() => createAggregator({ method: 'famo', lr: -1 }, { tasks }, 'training.weighting'));
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.place).toBe('training.weighting.lr');
    expect(e.message).toMatch(/^training\.weighting\.lr: .*\(method famo\)$/);
    const unknown = caught(() => createAggregator({ method: 'pcgrad', alpha: 2 }, { tasks }));
    expect(unknown.place).toBe('weighting.alpha');
    expect(unknown.message).toContain('pcgrad');
    const wrongType = caught(() => createAggregator({ method: 'cagrad', c: 'big' }, { tasks }));
    expect(wrongType.place).toBe('weighting.c');
  });

  it('a per-task option of the wrong length names the option and the tasks', () => {
    const e = caught(() => createAggregator({ method: 'upgrad', preference: [1, 2] }, { tasks }));
    expect(e.place).toBe('weighting.preference');
    expect(e.message).toContain('2 values for 3 tasks (a, b, c)');
    expect(caught(() => createAggregator({ method: 'graddrop', leak: [0.1] }, { tasks })).place).toBe(
      'weighting.leak',
    );
    expect(caught(() => createAggregator({ method: 'famo', minLosses: [0] }, { tasks })).place).toBe(
      'weighting.minLosses',
    );
  });

  it('a negative task weight is rejected at taskWeights.<task>', () => {
    const e = caught(() => createAggregator({ method: 'weightedSum' }, { tasks, taskWeights: { b: -1 } }));
    expect(e.place).toBe('taskWeights.b');
  });

  it('no tasks or duplicate task names are an error', () => {
    expect(caught(() => createAggregator({ method: 'equal' }, { tasks: [] })).code).toBe('INVALID_ARGUMENT');
    expect(caught(() => createAggregator({ method: 'equal' }, { tasks: ['a', 'a'] })).code).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('aggregatorSchema fills defaults and rejects unknown methods and options', () => {
    expect(aggregatorSchema.parse({ method: 'upgrad' })).toEqual({
      method: 'upgrad',
      gradientOf: 'parameters',
      preference: 'mean',
    });
    expect(aggregatorSchema.parse({ method: 'config' })).toMatchObject({ preference: 'sum' });
    expect(aggregatorSchema.parse({ method: 'mgda', gradientOf: 'representation' })).toMatchObject({
      gradientOf: 'representation',
      normalize: 'none',
    });
    expect(aggregatorSchema.safeParse({ method: 'nope' }).success).toBe(false);
    expect(aggregatorSchema.safeParse({ method: 'equal', extra: 1 }).success).toBe(false);
  });

  it('a gradient-level method checks the Jacobian against the tasks', () => {
    const agg = createAggregator({ method: 'upgrad' }, { tasks });
    const J = { rows: 2, cols: 2, data: new Float64Array(4) };
    const e = caught(() => agg.aggregate!(J, new Float64Array(2), { step: 0, epoch: 0, seed: 1, tasks }));
    expect(e.code).toBe('SHAPE_MISMATCH');
    expect(e.message).toMatch(/^weighting upgrad: upgrad: Jacobian 2×2 .* for 3 tasks$/);
  });
});
