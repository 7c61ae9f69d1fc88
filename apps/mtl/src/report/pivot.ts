import { isScoreKey, MODEL_TASK, metricHigherIsBetter, parseScoreKey, scoreKey } from '@mtl/scoring';
import { escapeHtml, formatNumber } from './html.js';

/**
 * One run's scores as the pivot shows them.
 * @example
 * const r: PivotRun = { label: 'a', scores: { 't/d/test/accuracy': 0.9 } };
 */
export interface PivotRun {
  /** Column-group title (ignored when there is one run). */
  label: string;
  scores: Readonly<Record<string, number>> | undefined;
}

/**
 * What {@link scorePivot} drew, for the caller's message and for tests.
 * @example
 * const { html, cells, metrics } = scorePivot([{ label: 'a', scores }]);
 */
export interface Pivot {
  html: string;
  /** Cells holding a value (one per score key of every run). */
  cells: number;
  /** The metrics, one table each, in page order. */
  metrics: string[];
}

const SPLIT_ORDER = ['train', 'valid', 'test'];

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function splitSort(a: string, b: string): number {
  const rank = (s: string) => (SPLIT_ORDER.includes(s) ? SPLIT_ORDER.indexOf(s) : SPLIT_ORDER.length);
  return rank(a) - rank(b) || byText(a, b);
}

/** Whether higher is better for a metric, or undefined when the registry does not know it. */
function direction(metric: string): boolean | undefined {
  try {
    return metricHigherIsBetter(metric);
  } catch {
    return undefined;
  }
}

/**
 * The scores as pivot tables instead of one long list: a table per metric (loss first), a row per
 * `task/dataset` (model-wide first), a column per split; with several runs, a column group per run
 * and, in each row and split, the best run's value in bold (where the metric's direction is known).
 * Every value cell carries its score key (`data-key`), run (`data-run`) and exact value
 * (`data-value`). Keys that are not `task/dataset/split/metric` go to a last table of their own.
 * @example
 * scorePivot([{ label: 'a', scores: { 't/d/test/accuracy': 0.9 } }]).cells; // 1
 */
export function scorePivot(runs: readonly PivotRun[]): Pivot {
  const several = runs.length > 1;
  const metrics = new Map<string, { rows: Set<string>; splits: Set<string> }>();
  const other = new Set<string>();
  // Row label `task/dataset` -> its parts, so that cell keys are built by scoreKey.
  const rowParts = new Map<string, { task: string; dataset: string }>();
  for (const run of runs) {
    for (const key of Object.keys(run.scores ?? {})) {
      if (!isScoreKey(key)) {
        other.add(key);
        continue;
      }
      const p = parseScoreKey(key);
      let m = metrics.get(p.metric);
      if (m === undefined) {
        m = { rows: new Set(), splits: new Set() };
        metrics.set(p.metric, m);
      }
      const row = `${p.task}/${p.dataset}`;
      m.rows.add(row);
      rowParts.set(row, p);
      m.splits.add(p.split);
    }
  }
  const order = [...metrics.keys()].sort(
    (a, b) => Number(b === 'loss') - Number(a === 'loss') || byText(a, b),
  );
  let cells = 0;
  const tables: string[] = [];
  for (const metric of order) {
    const { rows, splits } = metrics.get(metric)!;
    const splitList = [...splits].sort(splitSort);
    const rowList = [...rows].sort((a, b) => {
      const model = (r: string) => Number(r.startsWith(`${MODEL_TASK}/`));
      return model(b) - model(a) || byText(a, b);
    });
    const higher = direction(metric);
    const head = several
      ? `<tr><th rowspan="2">task / dataset</th>${runs
          .map((r) => `<th class="run" colspan="${splitList.length}">${escapeHtml(r.label)}</th>`)
          .join(
            '',
          )}</tr><tr>${runs.map(() => splitList.map((s) => `<th class="num">${escapeHtml(s)}</th>`).join('')).join('')}</tr>`
      : `<tr><th>task / dataset</th>${splitList.map((s) => `<th class="num">${escapeHtml(s)}</th>`).join('')}</tr>`;
    const body = rowList.map((row) => {
      const { task, dataset } = rowParts.get(row)!;
      const best = new Map<string, number>();
      if (several && higher !== undefined) {
        for (const split of splitList) {
          const values = runs
            .map((r) => r.scores?.[scoreKey(task, dataset, split, metric)])
            .filter((v): v is number => v !== undefined && Number.isFinite(v));
          if (values.length > 1) best.set(split, higher ? Math.max(...values) : Math.min(...values));
        }
      }
      const tds = runs.flatMap((r, i) =>
        splitList.map((split) => {
          const key = scoreKey(task, dataset, split, metric);
          const v = r.scores?.[key];
          const first = several && i > 0 && split === splitList[0] ? ' group-start' : '';
          if (v === undefined) return `<td class="num empty${first}">—</td>`;
          cells++;
          const isBest = best.get(split) === v ? ' best' : '';
          return (
            `<td class="num${isBest}${first}" data-key="${escapeHtml(key)}" data-run="${escapeHtml(r.label)}" ` +
            `data-value="${escapeHtml(String(v))}">${escapeHtml(formatNumber(v))}</td>`
          );
        }),
      );
      return `<tr><th scope="row">${escapeHtml(row)}</th>${tds.join('')}</tr>`;
    });
    const note = higher === undefined ? '' : higher ? ' (higher is better)' : ' (lower is better)';
    tables.push(
      `<table class="scores pivot" data-metric="${escapeHtml(metric)}"><caption>${escapeHtml(metric)}${escapeHtml(note)}</caption>` +
        `<thead>${head}</thead><tbody>${body.join('\n')}</tbody></table>`,
    );
  }
  if (other.size > 0) {
    const keys = [...other].sort(byText);
    const head = `<tr><th>key</th>${runs.map((r) => `<th class="num">${escapeHtml(several ? r.label : 'value')}</th>`).join('')}</tr>`;
    const body = keys.map((key) => {
      const tds = runs.map((r) => {
        const v = r.scores?.[key];
        if (v === undefined) return '<td class="num empty">—</td>';
        cells++;
        return `<td class="num" data-key="${escapeHtml(key)}" data-run="${escapeHtml(r.label)}" data-value="${escapeHtml(String(v))}">${escapeHtml(formatNumber(v))}</td>`;
      });
      return `<tr><th scope="row">${escapeHtml(key)}</th>${tds.join('')}</tr>`;
    });
    tables.push(
      `<table class="scores other"><caption>other keys</caption><thead>${head}</thead><tbody>${body.join('\n')}</tbody></table>`,
    );
  }
  return { html: `<div class="pivots">${tables.join('\n')}</div>`, cells, metrics: order };
}
