import { describe, expect, it } from 'vitest';
import type { DictDataset } from './dict-dataset.js';
import { makeLogisticTasks } from './logistic-tasks.js';

function columnMean(ds: DictDataset, field: string, j: number, dim: number): number {
  const v = ds.fieldValues(field);
  let s = 0;
  for (let i = 0; i < ds.length; i++) s += v[i * dim + j]!;
  return s / ds.length;
}

describe('makeLogisticTasks (VMTL elementary example)', () => {
  it('has the seed defaults: 3 tasks, dim 2, 600 each, 20% test, tasks 1-2 linked, 3 solo', () => {
    const tasks = makeLogisticTasks({}, 43);
    expect(tasks.map((t) => t.name)).toEqual(['task1', 'task2', 'task3']);
    expect(tasks.map((t) => [t.train.length, t.test.length])).toEqual([
      [480, 120],
      [480, 120],
      [480, 120],
    ]);
    expect(tasks.map((t) => t.linkedTo)).toEqual([1, 0, null]);
    const t1 = tasks[0]!;
    expect(t1.train.name).toBe('task1Dataset');
    expect(t1.train.fieldInfo('x').rowShape).toEqual([2]);
    expect(t1.train.labelInfo('task1')).toMatchObject({ kind: 'class', numClasses: 2 });
    expect(t1.w).toHaveLength(2);
  });

  it('links tasks 1 and 2 (inputs equal up to 0.01 noise, weights at each other means) and centres w_3 at 1', () => {
    const [t1, t2, t3] = makeLogisticTasks({}, 43);
    const x1 = t1!.all.fieldValues('x');
    const x2 = t2!.all.fieldValues('x');
    let maxDiff = 0;
    let sq = 0;
    for (let i = 0; i < x1.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(x1[i]! - x2[i]!));
      sq += (x1[i]! - x2[i]!) ** 2;
    }
    // Noise of scale 0.01: rms about 0.01, and no coordinate beyond 5 sigma.
    expect(Math.sqrt(sq / x1.length)).toBeGreaterThan(0.008);
    expect(Math.sqrt(sq / x1.length)).toBeLessThan(0.012);
    expect(maxDiff).toBeLessThan(0.05);
    // X ~ 5 N(0, I): the sample standard deviation is about 5.
    const sd = Math.sqrt(Array.from(x1).reduce((a, v) => a + v * v, 0) / x1.length);
    expect(sd).toBeGreaterThan(4.6);
    expect(sd).toBeLessThan(5.4);
    for (let j = 0; j < 2; j++) {
      // w_1 ~ N(mean X_2, 0.1²), w_2 ~ N(mean X_1, 0.1²): within 4 sigma.
      expect(Math.abs(t1!.w[j]! - columnMean(t2!.all, 'x', j, 2))).toBeLessThan(0.4);
      expect(Math.abs(t2!.w[j]! - columnMean(t1!.all, 'x', j, 2))).toBeLessThan(0.4);
      expect(Math.abs(t3!.w[j]! - 1)).toBeLessThan(0.4);
    }
  });

  it('draws y ~ Bernoulli(sigmoid(x·w)): the share of ones matches the mean probability', () => {
    const tasks = makeLogisticTasks({ sizes: 20_000 }, 7);
    for (const t of tasks) {
      const x = t.all.fieldValues('x');
      const y = t.all.labelValues(t.name);
      let p = 0;
      let ones = 0;
      let agree = 0;
      let bayes = 0;
      for (let i = 0; i < t.all.length; i++) {
        const z = x[2 * i]! * t.w[0]! + x[2 * i + 1]! * t.w[1]!;
        const pi = 1 / (1 + Math.exp(-z));
        p += pi;
        bayes += Math.max(pi, 1 - pi);
        ones += y[i]!;
        agree += pi > 0.5 === (y[i] === 1) ? 1 : 0;
      }
      expect(Array.from(y).every((v) => v === 0 || v === 1)).toBe(true);
      const n = t.all.length;
      // Sum of independent Bernoullis: the difference of means has sd <= 0.5 / sqrt(n) = 0.0035.
      expect(Math.abs(ones / n - p / n)).toBeLessThan(0.015);
      // The rule sign(x·w) is right with probability max(p, 1 - p) per example.
      expect(Math.abs(agree / n - bayes / n)).toBeLessThan(0.015);
      expect(bayes / n).toBeGreaterThan(0.55);
      // The solo task's w ≈ (1, 1) makes |x·w| large: an almost separable task.
      if (t.linkedTo === null) expect(bayes / n).toBeGreaterThan(0.9);
    }
  });

  it('supports unequal sizes and T tasks linked in pairs, keeping earlier pairs when tasks are added', () => {
    const five = makeLogisticTasks({ tasks: 5, sizes: [600, 300, 100, 250, 50], dim: 3 }, 1);
    expect(five.map((t) => t.linkedTo)).toEqual([1, 0, 3, 2, null]);
    expect(five.map((t) => t.all.length)).toEqual([600, 300, 100, 250, 50]);
    expect(five.map((t) => t.test.length)).toEqual([120, 60, 20, 50, 10]);
    expect(five[0]!.train.fieldInfo('x').rowShape).toEqual([3]);
    // Task 4 (250 rows) extends its partner task 3 (100 rows) with fresh draws.
    const x3 = five[2]!.all.fieldValues('x');
    const x4 = five[3]!.all.fieldValues('x');
    expect(Math.abs(x3[0]! - x4[0]!)).toBeLessThan(0.05);
    expect(x4.length).toBe(750);
    const three = makeLogisticTasks({ tasks: 3, sizes: [600, 300, 100], dim: 3 }, 1);
    expect(three[0]!.all.fieldValues('x')).toEqual(five[0]!.all.fieldValues('x'));
    expect(three[1]!.w).toEqual(five[1]!.w);
  });

  it('is seeded, configurable, and validates its options', () => {
    const a = makeLogisticTasks({}, 3);
    const b = makeLogisticTasks({}, 3);
    const c = makeLogisticTasks({}, 4);
    expect(a[2]!.train.fieldValues('x')).toEqual(b[2]!.train.fieldValues('x'));
    expect(a[2]!.w).toEqual(b[2]!.w);
    expect(Array.from(a[2]!.w)).not.toEqual(Array.from(c[2]!.w));
    const named = makeLogisticTasks(
      { tasks: 2, taskNames: ['left', 'right'], field: 'inputs', testRatio: 0.5, sizes: 10 },
      0,
    );
    expect(named[1]!.test.labelNames).toEqual(['right']);
    expect(named[1]!.test.fieldNames).toEqual(['inputs']);
    expect(named[1]!.test.length).toBe(5);
    expect(() => makeLogisticTasks({ sizes: [1, 2] })).toThrow(/sizes lists 2 tasks but tasks is 3/);
    expect(() => makeLogisticTasks({ testRatio: 1 })).toThrow(/testRatio must be in \[0, 1\)/);
    expect(() => makeLogisticTasks({ taskNames: ['a', 'a', 'b'] })).toThrow(/distinct/);
  });
});
