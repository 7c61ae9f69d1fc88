import { describe, expect, it } from 'vitest';
import { scorePivot } from './pivot.js';

/** Cells of a pivot's HTML: [metric, row, data-run, data-key, data-value, text, best?]. */
function cells(html: string): string[][] {
  const out: string[][] = [];
  for (const t of html.matchAll(/<table class="scores pivot" data-metric="([^"]+)">([\s\S]*?)<\/table>/g)) {
    for (const row of t[2]!.matchAll(/<tr><th scope="row">([^<]+)<\/th>(.*?)<\/tr>/g)) {
      for (const c of row[2]!.matchAll(
        /<td class="num( best)?[^"]*" data-key="([^"]+)" data-run="([^"]+)" data-value="([^"]+)">([^<]+)<\/td>/g,
      )) {
        out.push([t[1]!, row[1]!, c[3]!, c[2]!, c[4]!, c[5]!, c[1] ? 'best' : '']);
      }
    }
  }
  return out;
}

const scores = {
  'model/all/test/loss': 0.2,
  'model/all/train/loss': 0.1,
  't1/d1/test/accuracy': 0.91,
  't1/d1/train/accuracy': 0.95,
  't1/d1/valid/accuracy': 0.9,
  't1/d1/test/loss': 0.3,
  't2/d2/test/accuracy': 0.123456789,
};

describe('scorePivot', () => {
  it('a table per metric (loss first), a row per task/dataset (model first), a column per split', () => {
    const pivot = scorePivot([{ label: 'r', scores }]);
    expect(pivot.metrics).toEqual(['loss', 'accuracy']);
    expect(pivot.cells).toBe(7);
    expect(cells(pivot.html)).toEqual([
      ['loss', 'model/all', 'r', 'model/all/train/loss', '0.1', '0.1000', ''],
      ['loss', 'model/all', 'r', 'model/all/test/loss', '0.2', '0.2000', ''],
      ['loss', 't1/d1', 'r', 't1/d1/test/loss', '0.3', '0.3000', ''],
      ['accuracy', 't1/d1', 'r', 't1/d1/train/accuracy', '0.95', '0.9500', ''],
      ['accuracy', 't1/d1', 'r', 't1/d1/valid/accuracy', '0.9', '0.9000', ''],
      ['accuracy', 't1/d1', 'r', 't1/d1/test/accuracy', '0.91', '0.9100', ''],
      ['accuracy', 't2/d2', 'r', 't2/d2/test/accuracy', '0.123456789', '0.1235', ''],
    ]);
    // Splits as columns in train, valid, test order; a split a row lacks is a dash.
    expect(pivot.html).toContain(
      '<tr><th>task / dataset</th><th class="num">train</th><th class="num">valid</th><th class="num">test</th></tr>',
    );
    expect(pivot.html).toContain(
      '<tr><th scope="row">t2/d2</th><td class="num empty">—</td><td class="num empty">—</td><td',
    );
  });

  it('several runs: a column group per run, the best run of each row and split in bold', () => {
    const other = { 't1/d1/test/accuracy': 0.95, 't1/d1/test/loss': 0.25, 'model/all/test/loss': 0.2 };
    const pivot = scorePivot([
      { label: 'a', scores },
      { label: 'b', scores: other },
      { label: 'c', scores: undefined },
    ]);
    expect(pivot.cells).toBe(10);
    expect(pivot.html).toContain('<th class="run" colspan="3">a</th><th class="run" colspan="3">b</th>');
    const best = cells(pivot.html).filter((c) => c[6] === 'best');
    // accuracy: higher wins; loss: lower wins; a tie marks both; a value alone is not "best".
    expect(best.map((c) => `${c[2]} ${c[3]}`)).toEqual([
      'a model/all/test/loss',
      'b model/all/test/loss',
      'b t1/d1/test/loss',
      'b t1/d1/test/accuracy',
    ]);
  });

  it('keys that are not score keys get their own table; no scores, no table', () => {
    const pivot = scorePivot([{ label: 'r', scores: { temperature: 0.5 } }]);
    expect(pivot.cells).toBe(1);
    expect(pivot.html).toContain('data-key="temperature"');
    expect(scorePivot([{ label: 'r', scores: undefined }]).cells).toBe(0);
  });
});
