import { isMtlError } from '@mtl/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  inferMetricMode,
  parseTrainerConfig,
  type TrainerConfig,
  type TrainerConfigInput,
  trainerConfigSchema,
} from './config.js';

describe('trainer config schema', () => {
  it('fills in every default', () => {
    expect(parseTrainerConfig({})).toEqual({
      seed: 0,
      epochs: 10,
      lr: 1e-3,
      l2: 0,
      optimizer: { type: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
      lrSchedule: { type: 'constant', warmupSteps: 0 },
      accumulate: 1,
      taskWeights: {},
      evalEvery: 1,
      evalUnit: 'epoch',
    });
    expect(parseTrainerConfig({ optimizer: { type: 'adamw' } }).optimizer).toEqual({
      type: 'adamw',
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay: 0.01,
    });
    expect(parseTrainerConfig({ lrSchedule: { type: 'plateau', metric: 'm' } }).lrSchedule).toMatchObject({
      factor: 0.1,
      patience: 10,
      warmupSteps: 0,
    });
  });

  it('rejects unknown keys and bad values, naming the path', () => {
    try {
      parseTrainerConfig({ epoch: 3, optimizer: { type: 'adam', beta1: 1.5 } });
      expect.unreachable();
    } catch (e) {
      expect(isMtlError(e, 'CONFIG_INVALID')).toBe(true);
      expect((e as Error).message).toContain('training.optimizer.beta1');
      expect((e as Error).message).toContain('epoch');
    }
    expect(() => parseTrainerConfig({ optimizer: { type: 'lion' } })).toThrow(/training\.optimizer\.type/);
    expect(() => parseTrainerConfig({ earlyStopping: { patience: 3 } })).toThrow(/earlyStopping\.metric/);
    expect(() => parseTrainerConfig({ restoreBest: true })).toThrow(/restoreBest needs checkpointMetric/);
    expect(() => parseTrainerConfig({ taskWeights: { a: -1 } })).toThrow(/taskWeights\.a/);
    expect(trainerConfigSchema.safeParse({ steps: 0 }).success).toBe(false);
  });

  it('types come from the schema', () => {
    expectTypeOf<TrainerConfig['optimizer']['type']>().toEqualTypeOf<
      'sgd' | 'adam' | 'adamw' | 'adamax' | 'rmsprop'
    >();
    expectTypeOf<TrainerConfig['epochs']>().toEqualTypeOf<number>();
    expectTypeOf<TrainerConfigInput['epochs']>().toEqualTypeOf<number | undefined>();
  });

  it('infers min for losses and errors, max for the rest', () => {
    expect(inferMetricMode('model/all/valid/loss')).toBe('min');
    expect(inferMetricMode('reg/ds/valid/mse')).toBe('min');
    expect(inferMetricMode('a/ds/valid/accuracy')).toBe('max');
    expect(inferMetricMode('a/ds/valid/f1')).toBe('max');
  });
});
