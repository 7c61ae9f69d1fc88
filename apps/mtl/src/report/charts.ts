import { isScoreKey, MODEL_TASK, parseScoreKey } from '@mtl/scoring';
import type { HistoryRecord } from '@mtl/training';
import type { TopLevelSpec } from 'vega-lite';
import {
  type ComparisonFile,
  isTwoDimensional,
  type MixingFile,
  type ReconstructionsFile,
} from './run-files.js';

/** One chart of the report: a Vega-Lite spec with its data inlined, drawn into `<div id={id}>`. */
export interface Chart {
  id: string;
  section: 'curves' | 'mixing' | 'compare' | 'reconstructions';
  title: string;
  spec: TopLevelSpec;
  /** Data rows drawn as marks (points, cells, bars): what a reader of the page should count. */
  rows: number;
}

/** Points kept per curve: enough to see any learning curve, and long runs stay well under 2 MB. */
export const MAX_POINTS_PER_CURVE = 1000;

const SPLIT_ORDER = ['train', 'valid', 'test'];
const OTHER = 'other';

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function splitRank(split: string): number {
  const i = SPLIT_ORDER.indexOf(split);
  return i < 0 ? SPLIT_ORDER.length : i;
}

interface CurveRow {
  panel: string;
  series: string;
  step: number;
  epoch: number;
  value: number;
}

interface PanelKey {
  split: string;
  metric: string;
  panel: string;
}

function comparePanels(a: PanelKey, b: PanelKey): number {
  return (
    splitRank(a.split) - splitRank(b.split) ||
    byText(a.split, b.split) ||
    Number(b.metric === 'loss') - Number(a.metric === 'loss') ||
    byText(a.metric, b.metric)
  );
}

function compareTasks(a: string, b: string): number {
  const rank = (t: string) => (t === MODEL_TASK ? 0 : t === OTHER ? 2 : 1);
  return rank(a) - rank(b) || byText(a, b);
}

function getOrSet<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}

/** Evenly spaced indices 0..n-1 (first and last kept) when a curve has more than `max` points. */
function thin<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(items[Math.round((i * (items.length - 1)) / (max - 1))]!);
  return out;
}

/**
 * One learning-curve chart per task (model-wide keys first, as task `model`): a panel per
 * split and metric (`train loss`, `valid accuracy`, ...), each with its own y scale, a line per
 * dataset, against `step`. Non-finite values (logged as null) are left out; a curve with one point
 * (a single evaluation) is drawn as a dot. Keys that are not score keys go to a chart `other`.
 * @example
 * curveCharts([{ step: 50, epoch: 0, metrics: { 'a/d/train/loss': 0.5 } }])[0]!.title; // 'a'
 */
export function curveCharts(metrics: readonly HistoryRecord[], maxPoints = MAX_POINTS_PER_CURVE): Chart[] {
  const byTask = new Map<string, Map<string, { panel: PanelKey; series: Map<string, CurveRow[]> }>>();
  for (const record of metrics) {
    for (const [key, value] of Object.entries(record.metrics)) {
      if (!Number.isFinite(value)) continue;
      let task: string;
      let panel: PanelKey;
      let series: string;
      if (isScoreKey(key)) {
        const p = parseScoreKey(key);
        task = p.task;
        panel = { split: p.split, metric: p.metric, panel: `${p.split} ${p.metric}` };
        series = p.task === MODEL_TASK ? 'model' : p.dataset;
      } else {
        task = OTHER;
        panel = { split: '', metric: key, panel: key };
        series = 'value';
      }
      const panels = getOrSet(byTask, task, () => new Map());
      const entry = getOrSet(panels, panel.panel, () => ({ panel, series: new Map<string, CurveRow[]>() }));
      const rows = getOrSet(entry.series, series, (): CurveRow[] => []);
      rows.push({ panel: panel.panel, series, step: record.step, epoch: record.epoch, value });
    }
  }
  const charts: Chart[] = [];
  for (const task of [...byTask.keys()].sort(compareTasks)) {
    const panels = [...byTask.get(task)!.values()].sort((a, b) => comparePanels(a.panel, b.panel));
    const values = panels.flatMap((p) => [...p.series.values()].flatMap((rows) => thin(rows, maxPoints)));
    const seriesTitle = task === MODEL_TASK || task === OTHER ? 'series' : 'dataset';
    charts.push({
      id: `curves-${task}`,
      section: 'curves',
      title: task,
      rows: values.length,
      spec: {
        title: { text: task === MODEL_TASK ? 'model (all tasks)' : task, anchor: 'start' },
        data: { values },
        columns: Math.min(panels.length, 4),
        facet: {
          field: 'panel',
          type: 'nominal',
          title: null,
          sort: panels.map((p) => p.panel.panel),
          header: { labelFontSize: 12, labelFontWeight: 'bold' },
        },
        spec: {
          width: 220,
          height: 150,
          mark: { type: 'line', point: true, strokeWidth: 1.5 },
          encoding: {
            x: { field: 'step', type: 'quantitative', title: 'step', axis: { tickMinStep: 1, format: 'd' } },
            y: {
              field: 'value',
              type: 'quantitative',
              title: null,
              scale: { zero: false },
              axis: { format: '~r' },
            },
            color: { field: 'series', type: 'nominal', title: seriesTitle },
            tooltip: [
              { field: 'series', type: 'nominal', title: seriesTitle },
              { field: 'panel', type: 'nominal', title: 'metric' },
              { field: 'step', type: 'quantitative' },
              { field: 'epoch', type: 'quantitative' },
              { field: 'value', type: 'quantitative', format: '.4~g' },
            ],
          },
        },
        resolve: { scale: { y: 'independent' } },
      },
    });
  }
  return charts;
}

const CELL = 44;

/**
 * Heatmaps of the normalised mixing weights of a VMTL run: α (classifier prior) and, when the
 * model has a latent prior, β. Row i is task i's prior, column j the weight of task j in it. Every
 * one of the T×T cells is drawn (layer `cells`); the diagonal, never used by the model, stays blank,
 * and only the used weights are coloured and labelled (layers `weights` and `labels`).
 * @example
 * mixingCharts({ tasks: ['a', 'b'], alpha: [[null, 1], [1, null]], beta: null }).length; // 1
 */
export function mixingCharts(mixing: MixingFile): Chart[] {
  const { tasks } = mixing;
  const charts: Chart[] = [];
  const mats = [
    ['alpha', 'α: classifier prior mixing', mixing.alpha],
    ['beta', 'β: latent prior mixing', mixing.beta],
  ] as const;
  for (const [name, title, mat] of mats) {
    if (mat === null || mat === undefined) continue;
    const values = tasks.flatMap((task, i) =>
      tasks.map((source, j) => {
        const v = i === j ? null : (mat[i]![j] ?? null);
        return { task, source, value: v === null || !Number.isFinite(v) ? null : v };
      }),
    );
    const side = Math.max(CELL * 2, Math.min(640, CELL * tasks.length));
    const used = { filter: 'isValid(datum.value)' };
    charts.push({
      id: `mixing-${name}`,
      section: 'mixing',
      title,
      rows: values.length,
      spec: {
        title: { text: title, subtitle: 'row i: the prior of task i; column j: weight of task j in it' },
        data: { values },
        width: side,
        height: side,
        encoding: {
          x: {
            field: 'source',
            type: 'nominal',
            sort: [...tasks],
            title: 'task j (mixed in)',
            axis: { labelAngle: tasks.length > 6 ? -45 : 0 },
          },
          y: { field: 'task', type: 'nominal', sort: [...tasks], title: 'task i (prior of)' },
        },
        layer: [
          { name: 'cells', mark: { type: 'rect', fill: '#f2f2f2', stroke: '#ffffff', strokeWidth: 2 } },
          {
            name: 'weights',
            transform: [used],
            mark: { type: 'rect', stroke: '#ffffff', strokeWidth: 2 },
            encoding: {
              color: {
                field: 'value',
                type: 'quantitative',
                title: name === 'alpha' ? 'α' : 'β',
                scale: { domain: [0, 1], scheme: 'blues' },
              },
              tooltip: [
                { field: 'task', type: 'nominal', title: 'prior of' },
                { field: 'source', type: 'nominal', title: 'mixed in' },
                { field: 'value', type: 'quantitative', format: '.4f', title: 'weight' },
              ],
            },
          },
          {
            name: 'labels',
            transform: [used],
            mark: { type: 'text', fontSize: tasks.length > 8 ? 9 : 12 },
            encoding: {
              text: { field: 'value', type: 'quantitative', format: '.2f' },
              color: { condition: { test: 'datum.value > 0.55', value: '#ffffff' }, value: '#222222' },
            },
          },
        ],
      },
    });
  }
  return charts;
}

/** The score keys a comparison is judged on: those in Δm, else every task key of its split in both maps. */
export function comparedKeys(c: ComparisonFile): string[] {
  const inDelta = Object.keys(c.perKey);
  if (inDelta.length > 0) return inDelta.sort(byText);
  return Object.keys(c.multitask)
    .filter((k) => {
      if (!(k in c.solo) || !isScoreKey(k)) return false;
      const p = parseScoreKey(k);
      return p.task !== MODEL_TASK && p.split === c.split;
    })
    .sort(byText);
}

function percent(x: number): string {
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;
}

/**
 * For a `mtl compare` folder: grouped bars of the multitask and solo scores per task (on the
 * comparison's split, for the metrics Δm is computed on), and the relative improvement per task
 * with Δm as a rule.
 * @example
 * compareCharts(comparison).map((c) => c.id); // ['compare-scores', 'compare-delta']
 */
export function compareCharts(c: ComparisonFile): Chart[] {
  const keys = comparedKeys(c);
  const parts = keys.map((k) => ({ key: k, ...parseScoreKey(k) }));
  const perTaskCount = new Map<string, number>();
  for (const p of parts) perTaskCount.set(p.task, (perTaskCount.get(p.task) ?? 0) + 1);
  const bars = parts.flatMap((p) => {
    const label = perTaskCount.get(p.task) === 1 ? p.task : `${p.task} ${p.dataset} ${p.metric}`;
    return (['multitask', 'solo'] as const).map((run) => ({
      label,
      run,
      metric: p.metric,
      value: c[run][p.key]!,
    }));
  });
  const delta = Object.entries(c.perTask)
    .sort(([a], [b]) => byText(a, b))
    .map(([task, d]) => ({ task, delta: d, better: d >= 0 ? 'multitask' : 'solo' }));
  const metrics = [...new Set(parts.map((p) => p.metric))].join(', ');
  const charts: Chart[] = [
    {
      id: 'compare-scores',
      section: 'compare',
      title: 'multitask vs solo',
      rows: bars.length,
      spec: {
        title: {
          text: `multitask vs solo on ${c.split} (${metrics || 'no shared metric'})`,
          subtitle: `Δm = ${percent(c.deltaM)} (mean relative improvement of multitask over solo)`,
        },
        data: { values: bars },
        width: { step: 90 },
        height: 220,
        encoding: {
          x: { field: 'label', type: 'nominal', title: 'task', axis: { labelAngle: 0 } },
          xOffset: { field: 'run', type: 'nominal', sort: ['multitask', 'solo'] },
          y: { field: 'value', type: 'quantitative', title: `${c.split} score` },
          color: {
            field: 'run',
            type: 'nominal',
            title: 'model',
            scale: { domain: ['multitask', 'solo'], range: ['#4c78a8', '#f58518'] },
          },
        },
        layer: [
          {
            name: 'bars',
            mark: { type: 'bar' },
            encoding: {
              tooltip: [
                { field: 'label', type: 'nominal', title: 'task' },
                { field: 'run', type: 'nominal', title: 'model' },
                { field: 'metric', type: 'nominal' },
                { field: 'value', type: 'quantitative', format: '.4f' },
              ],
            },
          },
          {
            mark: { type: 'text', dy: -6, fontSize: 10 },
            encoding: { text: { field: 'value', type: 'quantitative', format: '.3f' } },
          },
        ],
      },
    },
  ];
  if (delta.length > 0) {
    charts.push({
      id: 'compare-delta',
      section: 'compare',
      title: 'relative improvement per task',
      rows: delta.length,
      spec: {
        title: {
          text: `relative improvement per task (Δm = ${percent(c.deltaM)})`,
          subtitle: '+ : multitask better than solo',
        },
        data: { values: delta },
        width: { step: 96 },
        height: 180,
        layer: [
          {
            name: 'bars',
            mark: { type: 'bar' },
            encoding: {
              x: { field: 'task', type: 'nominal', title: 'task', axis: { labelAngle: 0 } },
              y: { field: 'delta', type: 'quantitative', title: 'Δ', axis: { format: '+.1%' } },
              color: {
                field: 'better',
                type: 'nominal',
                title: 'better',
                scale: { domain: ['multitask', 'solo'], range: ['#54a24b', '#e45756'] },
              },
              tooltip: [
                { field: 'task', type: 'nominal' },
                { field: 'delta', type: 'quantitative', format: '+.2%', title: 'Δ' },
              ],
            },
          },
          {
            data: { values: [{ deltaM: c.deltaM }] },
            mark: { type: 'rule', strokeDash: [4, 3], color: '#333333' },
            encoding: { y: { field: 'deltaM', type: 'quantitative' } },
          },
        ],
      },
    });
  }
  return charts;
}

/**
 * Scatter charts of VAE reconstructions (the `reconstructions.json` hook), one per task whose
 * examples are 2-D; returns the other tasks' names as `skipped`.
 * @example
 * reconstructionCharts({ vae: { original: [[0, 1]], reconstruction: [[0.1, 0.9]] } }).charts.length; // 1
 */
export function reconstructionCharts(file: ReconstructionsFile): { charts: Chart[]; skipped: string[] } {
  const charts: Chart[] = [];
  const skipped: string[] = [];
  for (const task of Object.keys(file).sort(byText)) {
    const r = file[task]!;
    if (!isTwoDimensional(r)) {
      skipped.push(task);
      continue;
    }
    const values = [
      ...r.original.map(([x, y], i) => ({ kind: 'original', i, x: x!, y: y! })),
      ...r.reconstruction.map(([x, y], i) => ({ kind: 'reconstruction', i, x: x!, y: y! })),
    ];
    charts.push({
      id: `reconstructions-${task}`,
      section: 'reconstructions',
      title: task,
      rows: values.length,
      spec: {
        title: { text: `${task}: inputs and reconstructions` },
        data: { values },
        width: 260,
        height: 260,
        mark: { type: 'point', filled: true, opacity: 0.7 },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: { zero: false } },
          y: { field: 'y', type: 'quantitative', scale: { zero: false } },
          color: { field: 'kind', type: 'nominal', title: null },
          shape: { field: 'kind', type: 'nominal', title: null },
          tooltip: [
            { field: 'kind', type: 'nominal' },
            { field: 'i', type: 'quantitative', title: 'example' },
            { field: 'x', type: 'quantitative', format: '.3f' },
            { field: 'y', type: 'quantitative', format: '.3f' },
          ],
        },
      },
    });
  }
  return { charts, skipped };
}
