import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { betaSchedule } from './beta-schedule.js';

describe('betaSchedule', () => {
  it('defaults to 1 and takes a constant', () => {
    expect(betaSchedule()(123)).toBe(1);
    expect(betaSchedule(0.25)(0)).toBe(0.25);
    expect(betaSchedule({ kind: 'constant', value: 2 })(9)).toBe(2);
  });

  it('ramps linearly after the delay, then holds', () => {
    const beta = betaSchedule({ kind: 'linear', from: 0.1, to: 1.1, steps: 10, delay: 5 });
    expect([0, 5, 10, 15, 100].map(beta)).toEqual([0.1, 0.1, 0.6, 1.1, 1.1]);
  });

  it('stays between its ends and never decreases when from <= to (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 5, noNaN: true }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 0, max: 2000 }),
        (a, b, steps, step) => {
          const [from, to] = a <= b ? [a, b] : [b, a];
          const beta = betaSchedule({ kind: 'linear', from, to, steps });
          expect(beta(step)).toBeGreaterThanOrEqual(from - 1e-12);
          expect(beta(step)).toBeLessThanOrEqual(to + 1e-12);
          expect(beta(step + 1)).toBeGreaterThanOrEqual(beta(step) - 1e-12);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('rejects what would make a negative or non-finite weight, naming the step', () => {
    expect(() => betaSchedule(-1)).toThrow(/beta: must be a finite number >= 0/);
    expect(() => betaSchedule({ kind: 'linear', steps: 0 })).toThrow(/beta.steps/);
    expect(() => betaSchedule((s) => (s > 3 ? Number.NaN : 1))(4)).toThrow(/gave NaN at step 4/);
  });
});
