import { isMtlError } from '@mtl/core';
import { describe, expect, it } from 'vitest';
import type { LrScheduleConfigInput } from './config.js';
import { LrSchedule } from './lr-schedule.js';

const make = (schedule: LrScheduleConfigInput, lr = 0.1, totalSteps = 100) =>
  new LrSchedule({ lr, schedule, totalSteps });

describe('LrSchedule closed forms', () => {
  it('constant, with and without warmup', () => {
    const s = make({ type: 'constant' });
    expect([0, 50, 99].map((t) => s.lrAt(t, 0))).toEqual([0.1, 0.1, 0.1]);
    const w = make({ type: 'constant', warmupSteps: 4 });
    // (t+1)/W of the rate: 0.025, 0.05, 0.075, 0.1, then 0.1.
    [0.025, 0.05, 0.075, 0.1, 0.1].forEach((x, t) => {
      expect(w.lrAt(t, 0)).toBeCloseTo(x, 12);
    });
  });

  it('linear: from lr to lr·endFactor over the steps after warmup', () => {
    const s = make({ type: 'linear', endFactor: 0.2, warmupSteps: 10 });
    // s = t − 10, S = 90: lr·(1 − 0.8·s/90)
    expect(s.lrAt(4, 0)).toBeCloseTo((0.1 * 5) / 10, 12);
    expect(s.lrAt(10, 0)).toBeCloseTo(0.1, 12);
    expect(s.lrAt(55, 0)).toBeCloseTo(0.1 * (1 - 0.8 * 0.5), 12);
    expect(s.lrAt(100, 0)).toBeCloseTo(0.02, 12);
    expect(s.lrAt(500, 0)).toBeCloseTo(0.02, 12);
  });

  it('exponential: lr·γ^epoch or lr·γ^(step − warmup)', () => {
    const e = make({ type: 'exponential', gamma: 0.5 });
    expect([0, 1, 3].map((ep) => e.lrAt(7, ep))).toEqual([0.1, 0.05, 0.0125]);
    const s = make({ type: 'exponential', gamma: 0.9, unit: 'step', warmupSteps: 2 });
    expect(s.lrAt(0, 0)).toBeCloseTo(0.05, 12);
    expect(s.lrAt(2, 0)).toBeCloseTo(0.1, 12);
    expect(s.lrAt(12, 0)).toBeCloseTo(0.1 * 0.9 ** 10, 12);
  });

  it('step: lr·γ^floor(u/stepSize)', () => {
    const e = make({ type: 'step', stepSize: 3, gamma: 0.1 });
    expect([0, 2, 3, 5, 6].map((ep) => e.lrAt(0, ep))).toEqual([
      0.1,
      0.1,
      0.1 * 0.1,
      0.1 * 0.1,
      0.1 * 0.1 * 0.1,
    ]);
    const s = make({ type: 'step', stepSize: 10, gamma: 0.5, unit: 'step', warmupSteps: 5 });
    expect(s.lrAt(14, 0)).toBeCloseTo(0.1, 12);
    expect(s.lrAt(15, 0)).toBeCloseTo(0.05, 12);
    expect(s.lrAt(35, 0)).toBeCloseTo(0.0125, 12);
  });

  it('cosine: lrMin + (lr − lrMin)(1 + cos(π·s/S))/2', () => {
    const s = make({ type: 'cosine', minFactor: 0.1, warmupSteps: 10 });
    const min = 0.01;
    const at = (t: number) => min + ((0.1 - min) * (1 + Math.cos((Math.PI * (t - 10)) / 90))) / 2;
    expect(s.lrAt(0, 0)).toBeCloseTo(0.01, 12);
    expect(s.lrAt(9, 0)).toBeCloseTo(0.1, 12);
    for (const t of [10, 25, 55, 80, 99]) expect(s.lrAt(t, 0)).toBeCloseTo(at(t), 12);
    expect(s.lrAt(55, 0)).toBeCloseTo(0.055, 12);
    expect(s.lrAt(100, 0)).toBeCloseTo(min, 12);
  });

  it('plateau: reduces by factor after more than `patience` evaluations without improvement', () => {
    const s = make({ type: 'plateau', metric: 'm/all/valid/loss', patience: 1, factor: 0.5, warmupSteps: 2 });
    expect(s.lrAt(0, 0)).toBeCloseTo(0.05, 12);
    const seq = [1.0, 0.9, 0.95, 0.95, 0.8, 0.85, 0.85, 0.85];
    const lrs = seq.map((v) => {
      s.observe({ 'm/all/valid/loss': v });
      return s.lrAt(50, 0);
    });
    // bad counts: 0 0 1 2→reduce 0 1 2→reduce 1
    expect(lrs).toEqual([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]);
    // During warmup the reduced rate is warmed up to.
    expect(s.lrAt(0, 0)).toBeCloseTo(0.0125, 12);
  });

  it('plateau: max mode, minDelta, cooldown and the minLr floor', () => {
    const s = make({
      type: 'plateau',
      metric: 'acc',
      mode: 'max',
      patience: 0,
      factor: 0.1,
      minDelta: 0.05,
      cooldown: 1,
      minLr: 0.002,
    });
    const lrs = [0.5, 0.52, 0.6, 0.61, 0.62, 0.63].map((v) => {
      s.observe({ acc: v });
      return s.lrAt(0, 0);
    });
    // 0.52 is not > 0.5 + 0.05: reduce to 0.01 (cooldown 1); 0.6 improves while the cooldown runs out;
    // 0.61 is not > 0.65: reduce, stopped by the floor minLr = 0.002, where it stays.
    expect(lrs.map((x) => Number(x.toPrecision(6)))).toEqual([0.1, 0.01, 0.01, 0.002, 0.002, 0.002]);
  });

  it('state round trip reproduces the rates', () => {
    const s = make({ type: 'plateau', metric: 'x', patience: 0 });
    s.observe({ x: 1 });
    s.observe({ x: 2 });
    const copy = make({ type: 'plateau', metric: 'x', patience: 0 });
    copy.setState(JSON.parse(JSON.stringify(s.getState())));
    expect(copy.lrAt(3, 0)).toBe(s.lrAt(3, 0));
    s.observe({ x: 3 });
    copy.observe({ x: 3 });
    expect(copy.getState()).toEqual(s.getState());
  });

  it('a missing plateau metric lists the available keys', () => {
    const s = make({ type: 'plateau', metric: 'nope' });
    try {
      s.observe({ a: 1, b: 2 });
      expect.unreachable();
    } catch (e) {
      expect(isMtlError(e, 'CHECKPOINT_METRIC_UNKNOWN')).toBe(true);
      expect((e as Error).message).toContain('available keys: a, b');
    }
  });
});
