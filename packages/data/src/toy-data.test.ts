import { describe, expect, it } from 'vitest';
import {
  makeCircleDatasets,
  makeInvCircleDatasets,
  makeSquareDatasets,
  makeToyDatasets,
  toyPoints,
} from './toy-data.js';

const mean = (y: ArrayLike<number>): number => Array.from(y).reduce((a, b) => a + b, 0) / y.length;

describe('toy data (Snorkel tutorial)', () => {
  it('splits N = 1000 into 800 / 100 / 100 named like the tutorial', () => {
    const s = makeCircleDatasets({}, 0);
    expect(Object.keys(s)).toEqual(['train', 'valid', 'test']);
    expect([s.train!.length, s.valid!.length, s.test!.length]).toEqual([800, 100, 100]);
    expect(s.train!.name).toBe('circleDataset');
    expect(s.valid!.split).toBe('valid');
    expect(s.train!.fieldNames).toEqual(['circle_data']);
    expect(s.train!.fieldInfo('circle_data').rowShape).toEqual([2]);
    expect(s.train!.labelInfo('circle_task')).toMatchObject({ kind: 'class', numClasses: 2 });
    expect(makeSquareDatasets({}, 0).test!.labelNames).toEqual(['square_task']);
    expect(makeInvCircleDatasets({}, 0).test!.name).toBe('inv_circleDataset');
    const custom = makeToyDatasets(
      'square',
      { n: 50, datasetName: 'sq', field: 'pts', label: 'in_sq', ratios: [0.6, 0.4] },
      1,
    );
    expect(Object.keys(custom)).toEqual(['train', 'test']);
    expect([custom.train!.length, custom.test!.length]).toEqual([30, 20]);
    expect(custom.train!.row(0).X.pts).toHaveLength(2);
    expect(custom.test!.labelNames).toEqual(['in_sq']);
  });

  it('has the class balance of its geometry: circle ≈ π/4, square ≈ 1/4, inv_circle ≈ 1 - π/4', () => {
    const n = 40_000;
    // Binomial standard error at n = 40000 is about 0.002; allow 4 of them.
    expect(mean(toyPoints('circle', n, 1).y)).toBeCloseTo(Math.PI / 4, 1);
    expect(Math.abs(mean(toyPoints('circle', n, 1).y) - Math.PI / 4)).toBeLessThan(0.009);
    expect(Math.abs(mean(toyPoints('square', n, 1).y) - 0.25)).toBeLessThan(0.009);
    expect(Math.abs(mean(toyPoints('inv_circle', n, 1).y) - (1 - Math.PI / 4))).toBeLessThan(0.009);
    // The tutorial's N = 1000 lands near the same shares.
    const train = makeCircleDatasets({}, 3).train!;
    expect(Math.abs(mean(train.labelValues('circle_task')) - Math.PI / 4)).toBeLessThan(0.05);
  });

  it('labels every point by its rule, with points uniform in [-1, 1]²', () => {
    for (const task of ['circle', 'square', 'inv_circle'] as const) {
      const { x, y } = toyPoints(task, 2000, 9);
      for (let i = 0; i < 2000; i++) {
        const a = x[2 * i]!;
        const b = x[2 * i + 1]!;
        expect(Math.abs(a) <= 1 && Math.abs(b) <= 1).toBe(true);
        const rule =
          task === 'circle'
            ? a * a + b * b < 1
            : task === 'square'
              ? Math.abs(a) < 0.5 && Math.abs(b) < 0.5
              : a * a + b * b > 1;
        if (y[i] !== (rule ? 1 : 0)) expect.unreachable(`${task} point ${i} mislabelled`);
      }
      const xs = Array.from(x);
      expect(Math.min(...xs)).toBeLessThan(-0.99);
      expect(Math.max(...xs)).toBeGreaterThan(0.99);
      expect(mean(xs)).toBeCloseTo(0, 1);
    }
    // A radius of 2 puts every point of [-1, 1]² inside the circle.
    expect(mean(toyPoints('circle', 500, 2, 2).y)).toBe(1);
  });

  it('is seeded and draws every task independently', () => {
    expect(toyPoints('circle', 100, 4)).toEqual(toyPoints('circle', 100, 4));
    expect(Array.from(toyPoints('circle', 100, 4).x)).not.toEqual(Array.from(toyPoints('circle', 100, 5).x));
    expect(Array.from(toyPoints('circle', 100, 4).x)).not.toEqual(
      Array.from(toyPoints('inv_circle', 100, 4).x),
    );
    const a = makeCircleDatasets({}, 4);
    const b = makeCircleDatasets({}, 4);
    expect(a.valid!.fieldValues('circle_data')).toEqual(b.valid!.fieldValues('circle_data'));
  });

  it('puts each point in exactly one split', () => {
    const s = makeSquareDatasets({}, 2);
    const keys = Object.values(s).flatMap((d) =>
      Array.from({ length: d.length }, (_, r) => JSON.stringify(d.row(r).X.square_data)),
    );
    expect(keys.length).toBe(1000);
    expect(new Set(keys).size).toBe(1000);
    const all = toyPoints('square', 1000, 2);
    const expected = new Set(
      Array.from({ length: 1000 }, (_, i) => JSON.stringify([all.x[2 * i], all.x[2 * i + 1]])),
    );
    for (const k of keys) expect(expected.has(k)).toBe(true);
  });

  it('rejects unknown tasks and bad sizes', () => {
    expect(() => toyPoints('triangle' as 'circle', 10)).toThrow(/unknown toy task "triangle"/);
    expect(() => makeCircleDatasets({ n: 0 })).toThrow(/n must be a positive integer/);
    expect(() => makeCircleDatasets({ ratios: [0.5, 0.2] })).toThrow(/ratios must sum to 1/);
  });
});
