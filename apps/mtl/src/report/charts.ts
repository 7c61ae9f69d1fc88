import { isScoreKey, MODEL_TASK, parseScoreKey } from '@mtl/scoring';
import type { HistoryRecord } from '@mtl/training';
import type { TopLevelSpec } from 'vega-lite';
import { heatmapSpec } from './heatmap.js';
import {
  type BestCheckpoint,
  type ComparisonFile,
  isTwoDimensional,
  type MixingFile,
  type ReconstructionsFile,
  type WatchedMetric,
} from './run-files.js';

/** One chart of the report: a Vega-Lite spec with its data inlined, drawn into `<div id={id}>`. */
export interface Chart {
  id: string;
  section: 'curves' | 'mixing' | 'compare' | 'reconstructions' | 'conflicts' | 'weights' | 'gates';
  title: string;
  spec: TopLevelSpec;
  /** Data rows drawn as marks (points, cells, bars): what a reader of the page should count. */
  rows: number;
  /** Curve charts: the step of each run's best checkpoint, marked by a rule in every panel. */
  best?: { run: string; step: number }[];
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

/**
 * One run's logged history, as the learning-curve charts draw it.
 * @example
 * const r: CurveRun = { label: 'a', metrics: history, best: run.best, watched: run.watched };
 */
export interface CurveRun {
  /** The run's name in legends (several runs) or nothing to show (one run). */
  label: string;
  metrics: readonly HistoryRecord[];
  /** Where `best.ckpt` was saved: a dashed rule at that step in every panel. */
  best?: BestCheckpoint | undefined;
  /** Keys the run watches: their panels say so. */
  watched?: readonly WatchedMetric[];
}

interface CurveRow {
  run: string;
  split: string;
  dataset: string;
  /** The line within a run: the split, with the dataset when a task logs several. */
  series: string;
  key: string;
  step: number;
  epoch: number;
  value: number;
}

interface Panel {
  /** The metric name (score keys) or the whole key (anything else, chart `other`). */
  metric: string;
  rows: CurveRow[];
  /** Series -> rows of each run, before thinning. */
  lines: Map<string, CurveRow[]>;
}

function comparePanels(a: string, b: string): number {
  return Number(b === 'loss') - Number(a === 'loss') || byText(a, b);
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

/** Split colours stay the same on every chart of every report: train blue, valid orange, test green. */
const SPLIT_COLOURS: Record<string, string> = { train: '#4c78a8', valid: '#f58518', test: '#54a24b' };
/** Run colours (Tableau 10), in the order the runs were given. */
const RUN_COLOURS = [
  '#4c78a8',
  '#f58518',
  '#e45756',
  '#72b7b2',
  '#54a24b',
  '#eeca3b',
  '#b279a2',
  '#ff9da6',
  '#9d755d',
  '#bab0ac',
];
const SPARE_COLOURS = ['#b279a2', '#e45756', '#72b7b2', '#9d755d', '#eeca3b', '#bab0ac'];

function splitOrder(splits: Iterable<string>): string[] {
  return [...new Set(splits)].sort((a, b) => splitRank(a) - splitRank(b) || byText(a, b));
}

const ROLE_TITLE: Record<WatchedMetric['role'], string> = {
  checkpoint: 'checkpoint metric',
  'early stopping': 'early-stopping metric',
  'lr plateau': 'plateau metric',
};

/**
 * Learning curves, one chart per task (model-wide keys first, as task `model`; keys that are not
 * score keys last, as `other`), a panel per metric with its own y axis titled by the metric, and
 * every split of that metric on the same axes (train and valid loss meet on one scale), against
 * `step` (epoch in the tooltips). With one run the splits are coloured; with several, the runs are
 * coloured (legend: run names) and the splits dashed. The step where each run saved `best.ckpt` is
 * a dashed vertical rule in every panel; panels of a watched metric say so in their title.
 * Non-finite values (logged as null) are left out; curves over `maxPoints` are thinned evenly.
 * @example
 * curveCharts([{ label: 'a', metrics: [{ step: 50, epoch: 1, metrics: { 't/d/train/loss': 0.5 } }] }])[0]!.id; // 'curves-t'
 */
export function curveCharts(runs: readonly CurveRun[], maxPoints = MAX_POINTS_PER_CURVE): Chart[] {
  const byTask = new Map<string, Map<string, Panel>>();
  const datasetsOf = new Map<string, Set<string>>();
  for (const run of runs) {
    for (const record of run.metrics) {
      for (const [key, value] of Object.entries(record.metrics)) {
        // The conflict monitor's keys have charts of their own (conflict-charts.ts).
        if (!Number.isFinite(value) || key.startsWith('conflict/')) continue;
        const p = isScoreKey(key) ? parseScoreKey(key) : undefined;
        const task = p?.task ?? OTHER;
        const metric = p?.metric ?? key;
        getOrSet(datasetsOf, `${task}\u0000${metric}`, () => new Set()).add(p?.dataset ?? '');
        const panel = getOrSet(
          getOrSet(byTask, task, () => new Map<string, Panel>()),
          metric,
          () => ({
            metric,
            rows: [],
            lines: new Map<string, CurveRow[]>(),
          }),
        );
        const row: CurveRow = {
          run: run.label,
          split: p?.split ?? '',
          dataset: p?.dataset ?? '',
          series: '',
          key,
          step: record.step,
          epoch: record.epoch,
          value,
        };
        getOrSet(panel.lines, `${run.label}\u0000${key}`, (): CurveRow[] => []).push(row);
      }
    }
  }
  const several = runs.length > 1;
  const runNames = runs.map((r) => r.label);
  const bests = runs.flatMap((r) =>
    r.best === undefined
      ? []
      : [
          {
            run: r.label,
            step: r.best.step,
            epoch: r.best.epoch ?? null,
            metric: r.best.metric,
            value: r.best.value,
            label: several ? '' : `best: step ${r.best.step}`,
          },
        ],
  );
  const watched = new Map<string, Set<string>>();
  for (const r of runs) {
    for (const w of r.watched ?? []) getOrSet(watched, w.key, () => new Set()).add(ROLE_TITLE[w.role]);
  }
  const charts: Chart[] = [];
  for (const task of [...byTask.keys()].sort(compareTasks)) {
    const panels = [...byTask.get(task)!.values()].sort((a, b) => comparePanels(a.metric, b.metric));
    let total = 0;
    const splits = new Set<string>();
    for (const panel of panels) {
      const manyDatasets = datasetsOf.get(`${task}\u0000${panel.metric}`)!.size > 1;
      for (const rows of panel.lines.values()) {
        for (const row of thin(rows, maxPoints)) {
          row.series = manyDatasets ? `${row.split} · ${row.dataset}` : row.split || 'value';
          splits.add(row.series);
          panel.rows.push(row);
        }
      }
      total += panel.rows.length;
    }
    const seriesDomain = splitOrder(splits);
    let spare = 0;
    const seriesRange = seriesDomain.map(
      (s) => SPLIT_COLOURS[s] ?? SPARE_COLOURS[spare++ % SPARE_COLOURS.length]!,
    );
    const colour = several
      ? {
          field: 'run',
          type: 'nominal' as const,
          title: 'run',
          scale: { domain: runNames, range: runNames.map((_, i) => RUN_COLOURS[i % RUN_COLOURS.length]!) },
        }
      : {
          field: 'series',
          type: 'nominal' as const,
          title: 'split',
          scale: { domain: seriesDomain, range: seriesRange },
        };
    const x = {
      field: 'step',
      type: 'quantitative' as const,
      title: 'step',
      axis: { tickMinStep: 1, format: 'd' },
    };
    const concat = panels.map((panel) => {
      const roles = [...new Set(panel.rows.flatMap((r) => [...(watched.get(r.key) ?? [])]))];
      const watchedSplits = splitOrder(panel.rows.filter((r) => watched.has(r.key)).map((r) => r.split));
      const subtitle = roles.length > 0 ? `${roles.join(', ')} (${watchedSplits.join(', ')})` : undefined;
      return {
        title: {
          text: panel.metric,
          ...(subtitle === undefined ? {} : { subtitle: `★ ${subtitle}` }),
          fontSize: 12,
          anchor: 'start' as const,
        },
        width: 260,
        height: 170,
        layer: [
          {
            data: { values: panel.rows },
            mark: { type: 'line' as const, point: true, strokeWidth: 1.6 },
            encoding: {
              x,
              y: {
                field: 'value',
                type: 'quantitative' as const,
                title: panel.metric,
                scale: { zero: false },
                axis: { format: '~r' },
              },
              color: colour,
              ...(several
                ? {
                    strokeDash: {
                      field: 'series',
                      type: 'nominal' as const,
                      title: 'split',
                      sort: seriesDomain,
                      legend: { symbolType: 'stroke', symbolStrokeWidth: 2 },
                    },
                    detail: { field: 'series', type: 'nominal' as const },
                  }
                : {}),
              tooltip: [
                ...(several ? [{ field: 'run', type: 'nominal' as const }] : []),
                { field: 'key', type: 'nominal' as const, title: 'key' },
                { field: 'step', type: 'quantitative' as const },
                { field: 'epoch', type: 'quantitative' as const },
                { field: 'value', type: 'quantitative' as const, format: '.4~g' },
              ],
            },
          },
          ...(bests.length === 0
            ? []
            : [
                {
                  data: { values: bests },
                  mark: { type: 'rule' as const, strokeDash: [5, 3], strokeWidth: 1.5 },
                  encoding: {
                    x,
                    ...(several ? { color: colour } : { color: { value: '#444444' } }),
                    tooltip: [
                      { field: 'run', type: 'nominal' as const, title: 'best.ckpt of' },
                      { field: 'step', type: 'quantitative' as const },
                      { field: 'epoch', type: 'quantitative' as const },
                      { field: 'metric', type: 'nominal' as const, title: 'checkpoint metric' },
                      { field: 'value', type: 'quantitative' as const, format: '.4~g' },
                    ],
                  },
                },
                ...(several
                  ? []
                  : [
                      {
                        data: { values: bests },
                        mark: {
                          type: 'text' as const,
                          align: 'left' as const,
                          baseline: 'top' as const,
                          dx: 3,
                          y: 2,
                          fontSize: 10,
                          color: '#444444',
                        },
                        encoding: { x, text: { field: 'label', type: 'nominal' as const } },
                      },
                    ]),
              ]),
        ],
      };
    });
    charts.push({
      id: `curves-${task}`,
      section: 'curves',
      title: task,
      rows: total,
      best: bests.map((b) => ({ run: b.run, step: b.step })),
      spec: {
        title: { text: task === MODEL_TASK ? 'model (all tasks)' : task, anchor: 'start' },
        columns: Math.min(panels.length, 3),
        concat,
        resolve: { scale: { x: 'shared', y: 'independent', color: 'shared', strokeDash: 'shared' } },
      } as TopLevelSpec,
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
    charts.push({
      id: `mixing-${name}`,
      section: 'mixing',
      title,
      rows: values.length,
      spec: heatmapSpec({
        title,
        subtitle: 'row i: the prior of task i; column j: weight of task j in it',
        values,
        width: side,
        height: side,
        x: { field: 'source', sort: tasks, title: 'task j (mixed in)' },
        y: { field: 'task', sort: tasks, title: 'task i (prior of)' },
        color: { field: 'value', title: name === 'alpha' ? 'α' : 'β', domain: [0, 1], scheme: 'blues' },
        tooltip: [
          { field: 'task', type: 'nominal', title: 'prior of' },
          { field: 'source', type: 'nominal', title: 'mixed in' },
          { field: 'value', type: 'quantitative', format: '.4f', title: 'weight' },
        ],
        layer: 'weights',
        labelTest: 'datum.value > 0.55',
        gaps: true,
      }),
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
