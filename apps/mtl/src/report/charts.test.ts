import type { HistoryRecord } from '@mtl/training';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCharts, comparedKeys, curveCharts, mixingCharts, reconstructionCharts } from './charts.js';
import type { ComparisonFile } from './run-files.js';

type Values = Record<string, unknown>[];

function valuesOf(chart: { spec: unknown }): Values {
  return (chart.spec as { data: { values: Values } }).data.values;
}

interface PanelSpec {
  title: { text: string; subtitle?: string };
  layer: {
    data: { values: Values };
    mark: { type: string };
    encoding: Record<
      string,
      { field?: string; title?: string; value?: unknown; scale?: { domain: string[] } }
    >;
  }[];
}

function panels(chart: { spec: unknown }): PanelSpec[] {
  return (chart.spec as { concat: PanelSpec[] }).concat;
}

function panelTitles(chart: { spec: unknown }): string[] {
  return panels(chart).map((p) => p.title.text);
}

/** The curve points of every panel, each with its panel's title. */
function points(chart: { spec: unknown }): Values {
  return panels(chart).flatMap((p) => p.layer[0]!.data.values.map((v) => ({ panel: p.title.text, ...v })));
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

  const one = (metrics: HistoryRecord[]) => [{ label: 'run1', metrics }];

  it('one chart per task (model first, other last), a panel per metric with every split on it', () => {
    const charts = curveCharts(one(history));
    expect(charts.map((c) => c.id)).toEqual(['curves-model', 'curves-a', 'curves-b', 'curves-other']);
    // 4 + 8 + 1 + 2 finite values.
    expect(charts.map((c) => c.rows)).toEqual([4, 8, 1, 2]);
    expect(panelTitles(charts[1]!)).toEqual(['loss', 'accuracy', 'f1']);
    expect(panelTitles(charts[0]!)).toEqual(['loss', 'lr']);
    expect(panelTitles(charts[3]!)).toEqual(['temperature']);
    // Train and valid loss share one panel (one pair of axes); a task with two datasets names them.
    const aLoss = points(charts[1]!).filter((v) => v.panel === 'loss');
    expect(aLoss.map((v) => [v.series, v.step, v.epoch, v.value])).toEqual([
      ['train · aData', 10, 1, 0.7],
      ['train · aData', 20, 2, 0.6],
      ['valid · aData', 10, 1, 0.8],
      ['valid · aData', 20, 2, 0.75],
      ['train · aExtra', 10, 1, 0.5],
    ]);
    expect(points(charts[2]!)).toEqual([
      {
        panel: 'loss',
        run: 'run1',
        split: 'train',
        dataset: 'bData',
        series: 'train',
        key: 'b/bData/train/loss',
        step: 10,
        epoch: 1,
        value: 0.9,
      },
    ]);
    // Every panel is labelled on both axes: step, and the metric.
    for (const chart of charts) {
      for (const p of panels(chart)) {
        expect(p.layer[0]!.encoding.x!.title).toBe('step');
        expect(p.layer[0]!.encoding.y!.title).toBe(p.title.text);
      }
    }
    // One run: colour by split, in train, valid, test order.
    expect(panels(charts[0]!)[0]!.layer[0]!.encoding.color!.field).toBe('series');
  });

  it('the best checkpoint is a rule at its step in every panel; watched panels say so', () => {
    const best = { metric: 'a/aData/valid/loss', mode: 'min' as const, value: 0.75, step: 20, epoch: 2 };
    const charts = curveCharts([
      { label: 'r', metrics: history, best, watched: [{ key: 'a/aData/valid/loss', role: 'checkpoint' }] },
    ]);
    for (const chart of charts) {
      expect(chart.best).toEqual([{ run: 'r', step: 20 }]);
      for (const p of panels(chart)) {
        const rule = p.layer.find((l) => l.mark.type === 'rule')!;
        expect(rule.data.values.map((v) => v.step)).toEqual([20]);
        expect(rule.encoding.x!.field).toBe('step');
      }
    }
    const a = panels(charts[1]!);
    expect(a.map((p) => p.title.subtitle)).toEqual(['★ checkpoint metric (valid)', undefined, undefined]);
    // No best checkpoint: no rule.
    const none = curveCharts(one(history));
    expect(none.every((c) => panels(c).every((p) => p.layer.length === 1))).toBe(true);
  });

  it('several runs: one chart per task, coloured by run (legend: run names), splits dashed', () => {
    const other = history.map((r) => ({ ...r, metrics: { ...r.metrics, 'a/aData/train/loss': 9 } }));
    const charts = curveCharts([
      { label: 'first', metrics: history, best: { metric: 'm', mode: 'min', value: 1, step: 10, epoch: 1 } },
      { label: 'second', metrics: other, best: { metric: 'm', mode: 'min', value: 1, step: 20, epoch: 2 } },
    ]);
    expect(charts.map((c) => c.id)).toEqual(['curves-model', 'curves-a', 'curves-b', 'curves-other']);
    const loss = panels(charts[1]!)[0]!;
    expect(loss.layer[0]!.encoding.color!.field).toBe('run');
    expect(loss.layer[0]!.encoding.color!.scale!.domain).toEqual(['first', 'second']);
    expect(loss.layer[0]!.encoding.strokeDash!.field).toBe('series');
    const values = loss.layer[0]!.data.values;
    expect(
      values.filter((v) => v.run === 'second' && v.key === 'a/aData/train/loss').map((v) => v.value),
    ).toEqual([9, 9]);
    expect(charts[1]!.rows).toBe(16);
    const rule = loss.layer.find((l) => l.mark.type === 'rule')!;
    expect(rule.data.values.map((v) => [v.run, v.step])).toEqual([
      ['first', 10],
      ['second', 20],
    ]);
    expect(rule.encoding.color!.field).toBe('run');
  });

  it('nothing logged: no chart', () => {
    expect(curveCharts([])).toEqual([]);
    expect(curveCharts(one([]))).toEqual([]);
  });

  it('a long curve is thinned to evenly spaced points, keeping the first and last', () => {
    const long = Array.from({ length: 2501 }, (_, i) => rec(i + 1, { 'a/d/train/loss': i }));
    const [chart] = curveCharts(one(long), 1000);
    const steps = points(chart!).map((v) => v.step as number);
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
