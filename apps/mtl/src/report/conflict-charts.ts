import type { HistoryRecord } from '@mtl/training';
import type { Chart } from './charts.js';
import { heatmapSpec } from './heatmap.js';

// Charts of the conflict monitor (`conflict/<a>/<b>/cosine`, `.../normRatio` in metrics.jsonl)
// and of the weighting method's task weights (`<task>/all/train/weight`, logged by the Trainer).

const CONFLICT = /^conflict\/([^/]+)\/([^/]+)\/(cosine|normRatio)$/;
const WEIGHT = /^([^/]+)\/all\/train\/weight$/;
const CELL = 44;

interface PairRow {
  a: string;
  b: string;
  pair: string;
  step: number;
  epoch: number;
  cosine: number | null;
  normRatio: number | null;
}

/** Every logged monitor value, one row per evaluation and pair `a < b`. */
function pairRows(metrics: readonly HistoryRecord[]): PairRow[] {
  const rows: PairRow[] = [];
  for (const record of metrics) {
    const byPair = new Map<string, PairRow>();
    for (const [key, value] of Object.entries(record.metrics)) {
      const m = CONFLICT.exec(key);
      if (m === null) continue;
      const [, a, b, metric] = m as unknown as [string, string, string, 'cosine' | 'normRatio'];
      const pair = `${a} · ${b}`;
      let row = byPair.get(pair);
      if (row === undefined) {
        row = { a, b, pair, step: record.step, epoch: record.epoch, cosine: null, normRatio: null };
        byPair.set(pair, row);
      }
      row[metric] = Number.isFinite(value) ? value : null;
    }
    rows.push(...[...byPair.values()].sort((x, y) => (x.pair < y.pair ? -1 : x.pair > y.pair ? 1 : 0)));
  }
  return rows;
}

/**
 * The conflict monitor's charts of one run, empty when metrics.jsonl has no monitor keys:
 * a task × task heatmap of the gradient cosines at the latest evaluation (symmetric, diagonal
 * blank, red where the tasks pull apart, blue where they agree; the tooltip gives the norm
 * ratio `‖g_row‖/‖g_column‖`), and the cosine of every pair against the step, with a rule at 0.
 * @example
 * conflictCharts([{ step: 5, epoch: 1, metrics: { 'conflict/a/b/cosine': -0.2 } }]).map((c) => c.id);
 * // ['conflict-heatmap', 'conflict-cosines']
 */
export function conflictCharts(metrics: readonly HistoryRecord[]): Chart[] {
  const rows = pairRows(metrics);
  if (rows.length === 0) return [];
  const lastStep = rows.at(-1)!.step;
  const latest = rows.filter((r) => r.step === lastStep);
  const tasks = [...new Set(rows.flatMap((r) => [r.a, r.b]))].sort();
  const cell = new Map<string, { cosine: number | null; ratio: number | null }>();
  for (const r of latest) {
    cell.set(`${r.a}\u0000${r.b}`, { cosine: r.cosine, ratio: r.normRatio });
    cell.set(`${r.b}\u0000${r.a}`, {
      cosine: r.cosine,
      ratio: r.normRatio === null || r.normRatio === 0 ? null : 1 / r.normRatio,
    });
  }
  const values = tasks.flatMap((task) =>
    tasks.map((other) => {
      const c = task === other ? undefined : cell.get(`${task}\u0000${other}`);
      return { task, other, cosine: c?.cosine ?? null, normRatio: c?.ratio ?? null };
    }),
  );
  const side = Math.max(CELL * 2, Math.min(640, CELL * tasks.length));
  const epoch = latest[0]!.epoch;
  const heatmap: Chart = {
    id: 'conflict-heatmap',
    section: 'conflicts',
    title: 'Gradient cosine between tasks',
    rows: values.length,
    spec: heatmapSpec({
      title: 'Gradient cosine between tasks',
      subtitle: `latest evaluation: step ${lastStep}, epoch ${epoch}; < 0: the tasks pull the shared parameters apart`,
      values,
      width: side,
      height: side,
      x: { field: 'other', sort: tasks, title: 'task' },
      y: { field: 'task', sort: tasks, title: 'task' },
      color: { field: 'cosine', title: 'cosine', domain: [-1, 1], scheme: 'redblue' },
      tooltip: [
        { field: 'task', type: 'nominal', title: 'task' },
        { field: 'other', type: 'nominal', title: 'other task' },
        { field: 'cosine', type: 'quantitative', format: '.4f', title: 'cosine' },
        { field: 'normRatio', type: 'quantitative', format: '.4g', title: '‖g_task‖ / ‖g_other‖' },
      ],
      layer: 'cosines',
      labelTest: 'abs(datum.cosine) > 0.6',
      gaps: true,
    }),
  };
  const series = rows.filter((r) => r.cosine !== null);
  const cosines: Chart = {
    id: 'conflict-cosines',
    section: 'conflicts',
    title: 'Gradient cosine per pair of tasks',
    rows: series.length,
    spec: {
      title: { text: 'Gradient cosine per pair of tasks', subtitle: 'at each evaluation, one fixed batch' },
      width: 560,
      height: 240,
      layer: [
        {
          data: { values: series },
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'step', type: 'quantitative', title: 'step' },
            y: { field: 'cosine', type: 'quantitative', title: 'cosine', scale: { domain: [-1, 1] } },
            color: { field: 'pair', type: 'nominal', title: 'tasks' },
            tooltip: [
              { field: 'pair', type: 'nominal', title: 'tasks' },
              { field: 'step', type: 'quantitative' },
              { field: 'epoch', type: 'quantitative' },
              { field: 'cosine', type: 'quantitative', format: '.4f' },
              { field: 'normRatio', type: 'quantitative', format: '.4g', title: 'norm ratio (first/second)' },
            ],
          },
        },
        {
          data: { values: [{ zero: 0 }] },
          mark: { type: 'rule', strokeDash: [4, 4], color: '#888888' },
          encoding: { y: { field: 'zero', type: 'quantitative' } },
        },
      ],
    },
  };
  return [heatmap, cosines];
}

/**
 * The task weights of the run's weighting method over training (`<task>/all/train/weight`, logged
 * by the Trainer at each log line when the method exposes them), one line per task; undefined when
 * none was logged (weightedSum and the methods without per-task weights).
 * @example
 * taskWeightChart([{ step: 5, epoch: 1, metrics: { 'a/all/train/weight': 0.5 } }])?.id; // 'task-weights'
 */
export function taskWeightChart(metrics: readonly HistoryRecord[]): Chart | undefined {
  const values: { task: string; step: number; epoch: number; weight: number }[] = [];
  for (const record of metrics) {
    for (const [key, weight] of Object.entries(record.metrics)) {
      const m = WEIGHT.exec(key);
      if (m !== null && Number.isFinite(weight)) {
        values.push({ task: m[1]!, step: record.step, epoch: record.epoch, weight });
      }
    }
  }
  if (values.length === 0) return undefined;
  return {
    id: 'task-weights',
    section: 'weights',
    title: 'Task weights',
    rows: values.length,
    spec: {
      title: {
        text: 'Task weights',
        subtitle: "the weighting method's weight of each task, last step before each log line",
      },
      data: { values },
      width: 560,
      height: 240,
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'step' },
        y: { field: 'weight', type: 'quantitative', title: 'weight' },
        color: { field: 'task', type: 'nominal', title: 'task' },
        tooltip: [
          { field: 'task', type: 'nominal' },
          { field: 'step', type: 'quantitative' },
          { field: 'epoch', type: 'quantitative' },
          { field: 'weight', type: 'quantitative', format: '.4g' },
        ],
      },
    },
  };
}
