import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caught } from '@mtl/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { expandColumnRange, selectColumns } from './column-select.js';
import { readCsv } from './read-csv.js';
import { readJsonl } from './read-jsonl.js';

const dir = mkdtempSync(join(tmpdir(), 'mtl-data-columns-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('column ranges and prefixes', () => {
  it('expands ranges, keeping zero padding', () => {
    expect(expandColumnRange('px0..px3')).toEqual(['px0', 'px1', 'px2', 'px3']);
    expect(expandColumnRange('px2..4')).toEqual(['px2', 'px3', 'px4']);
    expect(expandColumnRange('f08..f11')).toEqual(['f08', 'f09', 'f10', 'f11']);
    expect(expandColumnRange('a1..b3')).toBeNull();
    expect(expandColumnRange('plain')).toBeNull();
    expect(() => expandColumnRange('x5..x2')).toThrow(/runs backwards/);
  });

  it('selects by prefix in file order, and takes a literal name that looks like a range', () => {
    const header = ['id', 'px1', 'px0', 'y', 'a..b', 'px10'];
    expect(selectColumns({ prefix: 'px' }, header, 'field "img"')).toEqual(['px1', 'px0', 'px10']);
    expect(selectColumns({ items: ['id', 'px0..px1'] }, header, 'field "x"')).toEqual(['id', 'px0', 'px1']);
    expect(selectColumns({ items: ['a..b'] }, header, 'field "x"')).toEqual(['a..b']);
  });

  it('reads a 64-pixel CSV with a range and a prefix into [64] rows', async () => {
    const names = Array.from({ length: 64 }, (_, j) => `px${j}`);
    const row = (r: number) => [r, ...names.map((_, j) => r * 100 + j)].join(',');
    const p = file('pixels.csv', `label,${names.join(',')},pxmean\n${row(1)},5\n${row(2)},6\n`);
    const byRange = await readCsv(p, { fields: { img: 'px0..px63' }, labels: { label: 'label' } });
    expect(byRange.fieldInfo('img').rowShape).toEqual([64]);
    expect(byRange.row(1).X.img).toEqual(names.map((_, j) => 200 + j));
    // The prefix takes pxmean too, in file order: 65 columns.
    const byPrefix = await readCsv(p, { fields: { img: { prefix: 'px' } } });
    expect(byPrefix.fieldInfo('img').rowShape).toEqual([65]);
    expect((byPrefix.row(0).X.img as number[]).at(-1)).toBe(5);
    const mixed = await readCsv(p, { fields: { img: ['pxmean', 'px62..63'] } });
    expect(mixed.row(0).X.img).toEqual([5, 162, 163]);
  });

  it('names the field and file when a range or prefix matches nothing', async () => {
    const p = file('small.csv', 'a0,a1,b\n1,2,3\n');
    const e1 = await caught(readCsv(p, { fields: { img: { prefix: 'px' } } }));
    expect(e1.code).toBe('CSV_MISSING_COLUMN');
    expect(e1.message).toContain('field "img": prefix "px" matches no column (columns: a0, a1, b)');
    expect(e1.place).toBe(`${p}:1`);
    const e2 = await caught(readCsv(p, { fields: { img: 'px0..px3' } }));
    expect(e2.message).toContain('range "px0..px3" matches no column');
    const e3 = await caught(readCsv(p, { fields: { img: 'a0..a2' } }));
    expect(e3.message).toContain('range "a0..a2" needs column "a2"');
  });

  it('resolves ranges and prefixes against the first JSONL line', async () => {
    const p = file('pixels.jsonl', '{"px0":1,"px1":2,"q":3,"px2":4}\n{"px0":5,"px1":6,"q":7,"px2":8}\n');
    const ds = await readJsonl(p, { fields: { a: { prefix: 'px' }, b: 'px1..px2' } });
    expect(ds.row(1).X).toEqual({ a: [5, 6, 8], b: [6, 8] });
    const e = await caught(readJsonl(p, { fields: { a: { prefix: 'zz' } } }));
    expect(e.code).toBe('CSV_MISSING_COLUMN');
    expect(e.place).toBe(`${p}:1`);
    expect(e.message).toContain('prefix "zz" matches no column (columns: px0, px1, q, px2)');
  });
});

describe('categorical and text fields', () => {
  it('reads strings as ids with a dictionary, tokenizing text', async () => {
    const p = file('reviews.csv', 'colour,review,y\nred,Good  FOOD,1\n blue ,good service,0\nred,,1\n');
    const ds = await readCsv(p, {
      fields: {
        colour: { column: 'colour', kind: 'categorical' },
        review: { column: 'review', kind: 'text' },
      },
      labels: { y: 'y' },
    });
    expect(ds.fieldInfo('colour')).toEqual({ name: 'colour', dtype: 'int32', ragged: false, rowShape: [] });
    expect(Array.from(ds.fieldValues('colour'))).toEqual([0, 1, 0]);
    expect(ds.fieldDictionary('colour')).toEqual(['red', 'blue']);
    expect(ds.fieldInfo('review').ragged).toBe(true);
    expect(ds.fieldDictionary('review')).toEqual(['good', 'food', 'service']);
    expect(ds.row(0).X.review).toEqual([0, 1]);
    expect(ds.row(1).X.review).toEqual([0, 2]);
    expect(ds.row(2).X.review).toEqual([]);
    // The dictionary survives a split.
    expect(ds.subset([2, 1]).fieldDictionary('review')).toEqual(['good', 'food', 'service']);
  });

  it('reads categorical numbers and null from JSONL; refuses a list', async () => {
    const p = file('cats.jsonl', '{"c":"x","t":"A b"}\n{"c":7,"t":null}\n{"c":null,"t":"b"}\n');
    const ds = await readJsonl(p, {
      fields: { c: { column: 'c', kind: 'categorical' }, t: { column: 't', kind: 'text', lowercase: false } },
    });
    expect(ds.fieldDictionary('c')).toEqual(['x', '7', '']);
    expect(ds.fieldDictionary('t')).toEqual(['A', 'b']);
    const bad = file('bad.jsonl', '{"c":[1]}\n');
    const e = await caught(readJsonl(bad, { fields: { c: { column: 'c', kind: 'categorical' } } }));
    expect(e.code).toBe('DATA_INVALID');
    expect(e.place).toBe(`${bad}:1:c`);
  });

  it('refuses a categorical field of several columns', async () => {
    const p = file('two.csv', 'a,b\n1,2\n');
    const e = await caught(readCsv(p, { fields: { c: { column: ['a', 'b'], kind: 'categorical' } } }));
    expect(e.message).toContain('field "c" is categorical and is read from exactly one column');
  });
});
