import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caught } from '@mtl/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeBatch } from './batch.js';
import { DictDataset } from './dict-dataset.js';
import { readJsonl } from './read-jsonl.js';
import { writeJsonl } from './write-table.js';

const dir = mkdtempSync(join(tmpdir(), 'mtl-data-jsonl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('readJsonl', () => {
  it('maps keys to fields and labels: numbers, arrays, ragged arrays, class names, null = abstain', async () => {
    const p = file(
      'mixed.jsonl',
      [
        '{"a": 1, "b": 2, "tokens": [5, 6, 7], "mood": "happy", "score": [0.5, 0.5]}',
        '',
        '{"a": 3, "b": 4, "tokens": [8], "mood": null, "score": [0, 1]}',
      ].join('\n'),
    );
    const ds = await readJsonl(p, {
      name: 'mixed',
      fields: { ab: ['a', 'b'], tokens: 'tokens' },
      labels: {
        mood: { column: 'mood', classes: ['sad', 'happy'] },
        score: { column: 'score', kind: 'soft' },
      },
    });
    expect(ds.length).toBe(2);
    expect(ds.fieldInfo('tokens')).toMatchObject({ ragged: true, rowShape: [3] });
    expect(ds.row(1)).toEqual({ X: { ab: [3, 4], tokens: [8] }, Y: { mood: -1, score: [0, 1] } });
    expect(Array.from(ds.labelValues('mood'))).toEqual([1, -1]);
    const b = ds.collate([0, 1]);
    expect(b.X.tokens_mask!.arraySync()).toEqual([
      [1, 1, 1],
      [1, 0, 0],
    ]);
    disposeBatch(b);
  });

  it('round-trips a dataset through writeJsonl and the mapping it returns', async () => {
    const ds = new DictDataset(
      'rt',
      'train',
      {
        v: [
          [0.1, -2],
          [1 / 3, 7],
        ],
        seq: [[1, 2], [3]],
        s: [0.2, 0.4],
      },
      {
        y: [2, -1],
        soft: [
          [0.1, 0.9],
          [0.5, 0.5],
        ],
        r: [1.5, -0.25],
      },
      { numClasses: { y: 3 } },
    );
    const p = join(dir, 'rt.jsonl');
    const m = await writeJsonl(ds, p, { classes: { y: ['a', 'b', 'c'] } });
    const back = await readJsonl(p, { ...m, name: 'rt', split: 'train' });
    for (const f of ds.fieldNames) {
      expect(back.fieldValues(f)).toEqual(ds.fieldValues(f));
      expect(back.fieldInfo(f)).toEqual(ds.fieldInfo(f));
    }
    for (const l of ds.labelNames) {
      expect(back.labelValues(l)).toEqual(ds.labelValues(l));
      expect(back.labelInfo(l)).toEqual(ds.labelInfo(l));
    }
  });

  it('names file:line of a bad JSON line, a non-object, a wrong type and a missing key', async () => {
    const bad = file('bad.jsonl', '{"x": 1, "y": 0}\n\n{"x": 2, "y": \n');
    const e = await caught(readJsonl(bad, { fields: { x: 'x' }, labels: { y: 'y' } }));
    expect(e.code).toBe('DATA_INVALID');
    expect(e.place).toBe(`${bad}:3`);
    expect(e.message).toContain('line is not valid JSON');
    const arr = await caught(readJsonl(file('arr.jsonl', '[1, 2]\n'), { fields: { x: 'x' } }));
    expect(arr.message).toContain(':1: line is not a JSON object');
    const type = file('type.jsonl', '{"x": 1}\n{"x": "two"}\n');
    const t = await caught(readJsonl(type, { fields: { x: 'x' } }));
    expect(t.code).toBe('DATA_INVALID');
    expect(t.place).toBe(`${type}:2:x`);
    // A field key missing from a line is an error; a label key missing from a line abstains (see
    // missing-labels.test.ts) unless no line has it.
    const missing = file('missing.jsonl', '{"x": 1, "y": 0}\n{"y": 2}\n');
    const m = await caught(readJsonl(missing, { fields: { x: 'x' }, labels: { y: 'y' } }));
    expect(m.code).toBe('CSV_MISSING_COLUMN');
    expect(m.message).toBe(`${missing}:2: field "x" needs key "x", which this line lacks (keys: y)`);
    const typo = await caught(readJsonl(missing, { fields: { y: 'y' }, labels: { x: 'X' } }));
    expect(typo.message).toBe(
      `${missing}: label "x" needs key "X", which no line has (a line without it abstains)`,
    );
  });

  it('rejects non-finite numbers, shape changes, out-of-range labels and empty files', async () => {
    const inf = file('inf.jsonl', '{"x": 1}\n{"x": 1e999}\n');
    const i = await caught(readJsonl(inf, { fields: { x: 'x' } }));
    expect(i.code).toBe('DATA_NON_FINITE');
    expect(i.place).toBe(`${inf}:2:x`);
    const shape = file('shape.jsonl', '{"x": [1, 2]}\n{"x": 3}\n');
    expect((await caught(readJsonl(shape, { fields: { x: 'x' } }))).code).toBe('DATA_SHAPE_MISMATCH');
    const soft = file('soft.jsonl', '{"x": 1, "s": [0.5, 0.5]}\n{"x": 1, "s": [1]}\n');
    const s = await caught(
      readJsonl(soft, { fields: { x: 'x' }, labels: { s: { column: 's', kind: 'soft' } } }),
    );
    expect(s.code).toBe('DATA_SHAPE_MISMATCH');
    expect(s.place).toBe(`${soft}:2:s`);
    const range = file('range.jsonl', '{"x": 1, "y": 5}\n');
    const r = await caught(
      readJsonl(range, { fields: { x: 'x' }, labels: { y: { column: 'y', numClasses: 2 } } }),
    );
    expect(r.code).toBe('LABEL_OUT_OF_RANGE');
    expect(r.place).toBe(`${range}:1:y`);
    const empty = file('empty.jsonl', '\n\n');
    expect((await caught(readJsonl(empty, { fields: { x: 'x' } }))).code).toBe('DATA_EMPTY');
    expect((await caught(readJsonl(join(dir, 'nope.jsonl'), { fields: { x: 'x' } }))).code).toBe(
      'FILE_NOT_FOUND',
    );
  });
});
