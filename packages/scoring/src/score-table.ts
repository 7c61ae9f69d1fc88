import { MtlError } from '@mtl/core/base';
import { parseScoreKey, type ScoreKeyParts } from './score-key.js';

/**
 * One score as a JSON row.
 * @example
 * const row: ScoreRow = { task: 'a', dataset: 'd', split: 'test', metric: 'accuracy', value: 0.9 };
 */
export interface ScoreRow extends ScoreKeyParts {
  readonly value: number;
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareRows(a: ScoreKeyParts, b: ScoreKeyParts): number {
  return (
    byText(a.task, b.task) ||
    byText(a.dataset, b.dataset) ||
    byText(a.split, b.split) ||
    byText(a.metric, b.metric)
  );
}

/**
 * The scores as `{task, dataset, split, metric, value}` rows sorted by task, dataset, split, metric
 * (code-unit order). Every key is parsed, so a malformed key is SCORE_KEY_INVALID.
 * @example
 * scoreRows({ 'b/d/valid/f1': 0.5, 'a/d/valid/accuracy': 0.75 })[0];
 * // { task: 'a', dataset: 'd', split: 'valid', metric: 'accuracy', value: 0.75 }
 */
export function scoreRows(scores: Readonly<Record<string, number>>): ScoreRow[] {
  return Object.entries(scores)
    .map(([key, value]) => ({ ...parseScoreKey(key), value }))
    .sort(compareRows);
}

/**
 * Options of {@link formatScoreTable}.
 * @example
 * formatScoreTable(scores, { decimals: 2 });
 */
export interface ScoreTableOptions {
  /** Digits after the decimal point. Default 4. */
  readonly decimals?: number;
}

/**
 * The scores as an aligned text table: a header, then one line per score sorted by task, dataset,
 * split, metric; text columns left-aligned, values right-aligned with fixed decimals.
 * @example
 * formatScoreTable({ 'circle/circleDataset/valid/accuracy': 0.93, 'model/all/train/loss': 0.25 });
 * // task    dataset        split  metric     value
 * // circle  circleDataset  valid  accuracy  0.9300
 * // model   all            train  loss      0.2500
 */
export function formatScoreTable(
  scores: Readonly<Record<string, number>>,
  options: ScoreTableOptions = {},
): string {
  const decimals = options.decimals ?? 4;
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 20) {
    throw new MtlError('INVALID_ARGUMENT', `decimals must be an integer in 0..20, got ${decimals}`, {
      place: 'formatScoreTable.decimals',
    });
  }
  const header = ['task', 'dataset', 'split', 'metric', 'value'];
  const lines = scoreRows(scores).map((r) => [
    r.task,
    r.dataset,
    r.split,
    r.metric,
    Number.isFinite(r.value) ? r.value.toFixed(decimals) : String(r.value),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  const render = (cells: string[]) =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join('  ');
  return [header, ...lines].map(render).join('\n');
}

/**
 * Which scores to keep: each given part must equal (one of) the listed values exactly.
 * @example
 * const validF1: ScoreFilter = { split: 'valid', metric: ['f1', 'f1_macro'] };
 */
export interface ScoreFilter {
  readonly task?: string | readonly string[];
  readonly dataset?: string | readonly string[];
  readonly split?: string | readonly string[];
  readonly metric?: string | readonly string[];
}

/**
 * The scores whose key parts match the filter exactly (never by substring: `valid` does not match
 * `valid_extra`).
 * @example
 * filterScores({ 'a/d/valid/accuracy': 0.9, 'a/d/test/accuracy': 0.8 }, { split: 'valid' });
 * // { 'a/d/valid/accuracy': 0.9 }
 */
export function filterScores(
  scores: Readonly<Record<string, number>>,
  filter: ScoreFilter,
): Record<string, number> {
  const accepts = (want: string | readonly string[] | undefined, part: string) =>
    want === undefined || (typeof want === 'string' ? want === part : want.includes(part));
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(scores)) {
    const p = parseScoreKey(key);
    if (
      accepts(filter.task, p.task) &&
      accepts(filter.dataset, p.dataset) &&
      accepts(filter.split, p.split) &&
      accepts(filter.metric, p.metric)
    ) {
      out[key] = value;
    }
  }
  return out;
}
