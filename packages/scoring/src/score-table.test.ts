import { describe, expect, it } from 'vitest';
import { filterScores, formatScoreTable, scoreRows } from './score-table.js';

const scores = {
  'square_task/squareDataset/valid/accuracy': 0.95,
  'circle_task/circleDataset/valid/f1': 0.912345,
  'circle_task/circleDataset/valid/accuracy': 0.93,
  'model/all/train/loss': 0.25,
  'circle_task/circleDataset/test/accuracy': 0.9,
  'circle_task/circleDataset/valid_extra/accuracy': 0.5,
  'circle_task/circleDataset/valid/r2': -1.5,
};

describe('score tables', () => {
  it('rows sorted by task, dataset, split, metric', () => {
    expect(scoreRows(scores).map((r) => `${r.task} ${r.split} ${r.metric} ${r.value}`)).toEqual([
      'circle_task test accuracy 0.9',
      'circle_task valid accuracy 0.93',
      'circle_task valid f1 0.912345',
      'circle_task valid r2 -1.5',
      'circle_task valid_extra accuracy 0.5',
      'model train loss 0.25',
      'square_task valid accuracy 0.95',
    ]);
    expect(scoreRows({ 'a/b/c/d': 1 })).toEqual([
      { task: 'a', dataset: 'b', split: 'c', metric: 'd', value: 1 },
    ]);
    expect(JSON.parse(JSON.stringify(scoreRows(scores)))).toEqual(scoreRows(scores));
  });

  it('an aligned text table with fixed decimals', () => {
    expect(formatScoreTable(scores, { decimals: 3 })).toBe(
      [
        'task         dataset        split        metric     value',
        'circle_task  circleDataset  test         accuracy   0.900',
        'circle_task  circleDataset  valid        accuracy   0.930',
        'circle_task  circleDataset  valid        f1         0.912',
        'circle_task  circleDataset  valid        r2        -1.500',
        'circle_task  circleDataset  valid_extra  accuracy   0.500',
        'model        all            train        loss       0.250',
        'square_task  squareDataset  valid        accuracy   0.950',
      ].join('\n'),
    );
    expect(formatScoreTable({})).toBe('task  dataset  split  metric  value');
    expect(formatScoreTable({ 'a/b/c/d': Number.NaN })).toBe(
      ['task  dataset  split  metric  value', 'a     b        c      d         NaN'].join('\n'),
    );
    expect(() => formatScoreTable({ 'a/b/c': 1 })).toThrow(/score key "a\/b\/c" has 3 parts/);
    expect(() => formatScoreTable({}, { decimals: -1 })).toThrow(/decimals must be an integer/);
  });

  it('filters by exact parts, never by substring', () => {
    expect(Object.keys(filterScores(scores, { split: 'valid', task: 'circle_task' }))).toEqual([
      'circle_task/circleDataset/valid/f1',
      'circle_task/circleDataset/valid/accuracy',
      'circle_task/circleDataset/valid/r2',
    ]);
    expect(filterScores(scores, { metric: ['loss', 'f1'] })).toEqual({
      'circle_task/circleDataset/valid/f1': 0.912345,
      'model/all/train/loss': 0.25,
    });
    expect(filterScores(scores, { split: 'vali' })).toEqual({});
  });
});
