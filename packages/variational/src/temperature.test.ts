import { describe, expect, it } from 'vitest';
import {
  constantTemperature,
  exponentialTemperature,
  inverseSqrtTemperature,
  temperatureSchedule,
} from './temperature.js';

describe('temperature schedules', () => {
  it('constant, inverse square root and exponential decay give the documented values', () => {
    expect(constantTemperature(0.7)(123)).toBe(0.7);
    expect(inverseSqrtTemperature()(0)).toBe(1);
    expect(inverseSqrtTemperature()(3)).toBe(0.5);
    expect(inverseSqrtTemperature({ initial: 2, floor: 0.5 })(1e6)).toBe(0.5);
    const e = exponentialTemperature();
    expect(e(0)).toBe(1);
    expect(e(100)).toBeCloseTo(Math.exp(-0.1), 10);
    expect(e(1e6)).toBe(0.5);
    expect(exponentialTemperature({ rate: 0 })(1e6)).toBe(1);
  });

  it('every default and every spec kind runs over a long range of steps', () => {
    const schedules = [
      temperatureSchedule(),
      temperatureSchedule(2),
      temperatureSchedule({ kind: 'constant' }),
      temperatureSchedule({ kind: 'inverseSqrt' }),
      temperatureSchedule({ kind: 'exponential' }),
      temperatureSchedule((step) => 1 / (1 + step)),
    ];
    for (const s of schedules) {
      for (const step of [0, 1, 2, 10, 1000, 1e6, 1e9]) {
        const tau = s(step);
        expect(Number.isFinite(tau) && tau > 0).toBe(true);
      }
    }
  });

  it('rejects invalid parameters, steps and schedule values with the place named', () => {
    expect(() => constantTemperature(0)).toThrow(/constantTemperature.value/);
    expect(() => exponentialTemperature({ rate: -1 })).toThrow(/rate/);
    expect(() => inverseSqrtTemperature()(-1)).toThrow(/step must be/);
    expect(() => temperatureSchedule(() => 0)(3)).toThrow(/gave 0 at step 3/);
    expect(() => temperatureSchedule({ kind: 'nope' } as never)).toThrow(
      /unknown temperature schedule kind "nope"/,
    );
  });
});
