import type { HistoryRecord } from '@mtl/training';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCharts, comparedKeys, curveCharts, mixingCharts, reconstructionCharts } from './charts.js';
import type { ComparisonFile } from './run-files.js';

type Values = Record<string, unknown>[];

function valuesOf(chart: { spec: unknown }): Values {
  return (chart.spec as { data: { values: Values } }).data.values;
}

function facetSort(chart: { spec: unknown }): string[] {
  return (chart.spec as { facet: { sort: string[] } }).facet.sort;
}

const rec = (step: number, metrics: Record<string, number>): HistoryRecord => ({
  step,
  epoch: Math.floor(step / 10),
  metrics,
});

describe('curveCharts', () => {
  const history = [
    rec(10, {
      'model/all/train/loss': 1.5,
      'model/all/train/lr': 0.1,
      'b/bData/train/loss': 0.9,
      'a/aData/valid/accuracy': 0.6,
      'a/aData/train/loss': 0.7,
      'a/aData/valid/loss': 0.8,
      'a/aExtra/train/loss': 0.5,
      temperature: 1,
    }),
    rec(20, {
      'model/all/train/loss': 1.2,
      'model/all/train/lr': 0.1,
      'b/bData/train/loss': Number.NaN, // logged as null: left out
      'a/aData/valid/accuracy': 0.7,
      'a/aData/train/loss': 0.6,
      'a/aData/valid/loss': 0.75,
      'a/aData/valid/f1': 0.65,
      temperature: 0.5,
    }),
  ];

  it('one chart per task (model first, other last), a panel per split and metric', () => {
    const charts = curveCharts(history);
    expect(charts.map((c) => c.id)).toEqual(['curves-model', 'curves-a', 'curves-b', 'curves-other']);
    // 4 + 8 + 1 + 2 finite values.
    expect(charts.map((c) => c.rows)).toEqual([4, 8, 1, 2]);
    expect(facetSort(charts[1]!)).toEqual(['train loss', 'valid loss', 'valid accuracy', 'valid f1']);
    expect(facetSort(charts[0]!)).toEqual(['train loss', 'train lr']);
    expect(facetSort(charts[3]!)).toEqual(['temperature']);
    const aTrain = valuesOf(charts[1]!).filter((v) => v.panel === 'train loss');
    expect(aTrain).toEqual([
      { panel: 'train loss', series: 'aData', step: 10, epoch: 1, value: 0.7 },
      { panel: 'train loss', series: 'aData', step: 20, epoch: 2, value: 0.6 },
      { panel: 'train loss', series: 'aExtra', step: 10, epoch: 1, value: 0.5 },
    ]);
    expect(valuesOf(charts[2]!)).toEqual([
      { panel: 'train loss', series: 'bData', step: 10, epoch: 1, value: 0.9 },
    ]);
  });

  it('nothing logged: no chart', () => {
    expect(curveCharts([])).toEqual([]);
  });

  it('a long curve is thinned to evenly spaced points, keeping the first and last', () => {
    const long = Array.from({ length: 2501 }, (_, i) => rec(i + 1, { 'a/d/train/loss': i }));
    const [chart] = curveCharts(long, 1000);
    const steps = valuesOf(chart!).map((v) => v.step as number);
    expect(steps).toHaveLength(1000);
    expect(steps[0]).toBe(1);
    expect(steps.at(-1)).toBe(2501);
    // (2500 / 999) apart, rounded.
    expect(steps[1]).toBe(1 + Math.round(2500 / 999));
    expect(new Set(steps).size).toBe(1000);
  });
});

describe('mixingCharts', () => {
  it('T×T cells, the diagonal blank even when the file fills it', () => {
    const charts = mixingCharts({
      tasks: ['t1', 't2', 't3'],
      alpha: [
        [0.9, 0.8, 0.2],
        [0.5, null, 0.5],
        [0.25, 0.75, null],
      ],
      beta: null,
    });
    expect(charts.map((c) => c.id)).toEqual(['mixing-alpha']);
    const cells = valuesOf(charts[0]!);
    expect(cells).toHaveLength(9);
    expect(cells.filter((c) => c.value === null).map((c) => `${c.task}${c.source}`)).toEqual([
      't1t1',
      't2t2',
      't3t3',
    ]);
    expect(cells.find((c) => c.task === 't1' && c.source === 't2')!.value).toBe(0.8);
    expect(cells.find((c) => c.task === 't3' && c.source === 't2')!.value).toBe(0.75);
  });

  it('α and β each give a heatmap of T² cells (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }).chain((t) =>
          fc.record({
            t: fc.constant(t),
            alpha: fc.array(
              fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: t, maxLength: t }),
              {
                minLength: t,
                maxLength: t,
              },
            ),
            withBeta: fc.boolean(),
          }),
        ),
        ({ t, alpha, withBeta }) => {
          const tasks = Array.from({ length: t }, (_, i) => `task${i}`);
          const charts = mixingCharts({ tasks, alpha, beta: withBeta ? alpha : null });
          expect(charts).toHaveLength(withBeta ? 2 : 1);
          for (const c of charts) {
            const cells = valuesOf(c);
            expect(c.rows).toBe(t * t);
            expect(cells.filter((x) => x.value === null)).toHaveLength(t);
            expect(cells.filter((x) => x.task === x.source).every((x) => x.value === null)).toBe(true);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

const comparison: ComparisonFile = {
  split: 'test',
  multitask: {
    'a/d/test/accuracy': 0.9,
    'b/e/test/accuracy': 0.8,
    'b/e/test/loss': 0.3,
    'model/all/test/loss': 1,
  },
  solo: { 'a/d/test/accuracy': 0.8, 'b/e/test/accuracy': 0.85, 'b/e/test/loss': 0.2 },
  deltaM: (0.125 + 0.8 / 0.85 - 1) / 2, // 0.0330882...
  perTask: { a: 0.125, b: 0.8 / 0.85 - 1 },
  perKey: { 'a/d/test/accuracy': 0.125, 'b/e/test/accuracy': 0.8 / 0.85 - 1 },
  runs: { multitask: '/x/multitask', solo: { a: '/x/solo-a', b: '/x/solo-b' } },
};

describe('compareCharts', () => {
  it('multitask and solo bars for each key of Δm, and Δ per task', () => {
    const [bars, delta] = compareCharts(comparison);
    expect(valuesOf(bars!)).toEqual([
      { label: 'a', run: 'multitask', metric: 'accuracy', value: 0.9 },
      { label: 'a', run: 'solo', metric: 'accuracy', value: 0.8 },
      { label: 'b', run: 'multitask', metric: 'accuracy', value: 0.8 },
      { label: 'b', run: 'solo', metric: 'accuracy', value: 0.85 },
    ]);
    expect(valuesOf(delta!).map((d) => [d.task, d.better])).toEqual([
      ['a', 'multitask'],
      ['b', 'solo'],
    ]);
    expect(JSON.stringify(delta!.spec.title)).toContain('Δm = +3.31%');
  });

  it('without Δm keys, every task key of the split present in both (model-wide keys left out)', () => {
    const c = { ...comparison, perKey: {}, perTask: {} };
    expect(comparedKeys(c)).toEqual(['a/d/test/accuracy', 'b/e/test/accuracy', 'b/e/test/loss']);
    const charts = compareCharts(c);
    expect(charts).toHaveLength(1);
    // b has two keys, so its bars name the metric.
    expect([...new Set(valuesOf(charts[0]!).map((v) => v.label))]).toEqual(['a', 'b e accuracy', 'b e loss']);
  });
});

describe('reconstructionCharts (VAE hook)', () => {
  it('draws 2-D tasks and lists the others', () => {
    const { charts, skipped } = reconstructionCharts({
      flat: { original: [[0, 1, 2]], reconstruction: [[0, 1, 2]] },
      xy: {
        original: [
          [0, 1],
          [2, 3],
        ],
        reconstruction: [
          [0.1, 1.1],
          [2.1, 2.9],
        ],
      },
    });
    expect(charts.map((c) => [c.id, c.rows])).toEqual([['reconstructions-xy', 4]]);
    expect(skipped).toEqual(['flat']);
  });
});
