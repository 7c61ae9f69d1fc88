import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caught } from '@mtl/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { DictDataset } from './dict-dataset.js';
import { readCsv } from './read-csv.js';
import { makeCircleDatasets } from './toy-data.js';
import { writeCsv } from './write-table.js';

const dir = mkdtempSync(join(tmpdir(), 'mtl-data-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const mapping = { fields: { point: ['x1', 'x2'] }, labels: { inside: { column: 'label', numClasses: 2 } } };

describe('readCsv', () => {
  it('maps several columns to a vector field, one to a scalar field, and class names to ids', async () => {
    const p = file(
      'shapes.csv',
      'x1,x2,weight,label,colour\n0.5,-1,2,1,red\n1.5,2.5,3,0,green\n\n-3,4,0.25,,blue\n',
    );
    const ds = await readCsv(p, {
      name: 'shapes',
      split: 'valid',
      fields: { point: ['x1', 'x2'], weight: 'weight' },
      labels: { inside: 'label', colour: { column: 'colour', classes: ['red', 'green', 'blue'] } },
    });
    expect([ds.name, ds.split, ds.length]).toEqual(['shapes', 'valid', 3]);
    expect(ds.fieldInfo('point').rowShape).toEqual([2]);
    expect(ds.fieldInfo('weight').rowShape).toEqual([]);
    expect(Array.from(ds.fieldValues('point'))).toEqual([0.5, -1, 1.5, 2.5, -3, 4]);
    expect(Array.from(ds.fieldValues('weight'))).toEqual([2, 3, 0.25]);
    // An empty class cell is the abstain label.
    expect(Array.from(ds.labelValues('inside'))).toEqual([1, 0, -1]);
    expect(Array.from(ds.labelValues('colour'))).toEqual([0, 1, 2]);
    expect(ds.labelInfo('colour')).toMatchObject({ kind: 'class', numClasses: 3 });
  });

  it('round-trips a dataset through writeCsv and the mapping it returns', async () => {
    const { train } = makeCircleDatasets({ n: 200 }, 5);
    const p = join(dir, 'out', 'circle.csv');
    const m = await writeCsv(train!, p);
    expect(m).toEqual({
      fields: { circle_data: ['circle_data_0', 'circle_data_1'] },
      labels: { circle_task: { column: 'circle_task', kind: 'class', numClasses: 2 } },
    });
    const back = await readCsv(p, { ...m, name: train!.name, split: train!.split });
    expect(back.length).toBe(160);
    expect(back.fieldValues('circle_data')).toEqual(train!.fieldValues('circle_data'));
    expect(back.labelValues('circle_task')).toEqual(train!.labelValues('circle_task'));
    expect(back.labelInfo('circle_task')).toEqual(train!.labelInfo('circle_task'));

    const ds = new DictDataset(
      'c',
      'test',
      {
        v: [
          [0.1, 1e-7],
          [3, -2.5],
        ],
      },
      {
        y: [1, -1],
        s: [
          [0.25, 0.75],
          [1, 0],
        ],
      },
    );
    const q = join(dir, 'named.csv');
    const named = await writeCsv(ds, q, { classes: { y: ['no', 'yes'] } });
    const again = await readCsv(q, { ...named, name: 'c', split: 'test' });
    expect(again.fieldValues('v')).toEqual(ds.fieldValues('v'));
    expect(Array.from(again.labelValues('y'))).toEqual([1, -1]);
    expect(again.labelInfo('s').kind).toBe('soft');
    expect(Array.from(again.labelValues('s'))).toEqual([0.25, 0.75, 1, 0]);
  });

  it('streams a file larger than its first buffer', async () => {
    const lines = ['a,b,y'];
    for (let i = 0; i < 5000; i++) lines.push(`${i},${-i / 4},${i % 3}`);
    const ds = await readCsv(file('big.csv', lines.join('\n')), {
      fields: { ab: ['a', 'b'] },
      labels: { y: 'y' },
    });
    expect(ds.name).toBe('big');
    expect(ds.length).toBe(5000);
    expect(ds.row(4999)).toEqual({ X: { ab: [4999, -4999 / 4] }, Y: { y: 4999 % 3 } });
  });

  it('names the header when a mapped column is missing (CSV_MISSING_COLUMN)', async () => {
    const p = file('missing.csv', 'x1,label\n1,0\n');
    const e = await caught(readCsv(p, mapping));
    expect(e.code).toBe('CSV_MISSING_COLUMN');
    expect(e.message).toBe(
      `${p}:1: field "point" needs column "x2", which the header lacks (header: x1, label)`,
    );
  });

  it('names file:line:column and the text of a non-numeric cell (CSV_PARSE)', async () => {
    const p = file('bad.csv', 'x1,x2,label\n1,2,0\n3,abc,1\n');
    const e = await caught(readCsv(p, mapping));
    expect(e.code).toBe('CSV_PARSE');
    expect(e.place).toBe(`${p}:3:x2`);
    expect(e.message).toContain('cell "abc" in column "x2" is not a number');
    const empty = await caught(readCsv(file('emptycell.csv', 'x1,x2,label\n1,,0\n'), mapping));
    expect(empty.code).toBe('CSV_PARSE');
    expect(empty.place).toMatch(/emptycell\.csv:2:x2$/);
    const frac = await caught(readCsv(file('frac.csv', 'x1,x2,label\n1,2,0.5\n'), mapping));
    expect(frac.code).toBe('CSV_PARSE');
    expect(frac.message).toContain('not an integer class id');
  });

  it('reports NaN and Infinity cells as DATA_NON_FINITE with the place', async () => {
    for (const [name, cell] of [
      ['nan', 'NaN'],
      ['inf', '-Infinity'],
      ['big', '1e999'],
    ] as const) {
      const p = file(`${name}.csv`, `x1,x2,label\n1,2,0\n4,${cell},1\n`);
      const e = await caught(readCsv(p, mapping));
      expect(e.code).toBe('DATA_NON_FINITE');
      expect(e.place).toBe(`${p}:3:x2`);
    }
  });

  it('rejects ragged rows, empty files, header-only files and out-of-range labels', async () => {
    const ragged = file('ragged.csv', 'x1,x2,label\n1,2,0\n1,2\n');
    const r = await caught(readCsv(ragged, mapping));
    expect(r.code).toBe('CSV_PARSE');
    expect(r.message).toBe(`${ragged}:3: row has 2 cells but the header has 3`);
    const empty = file('empty.csv', '');
    expect((await caught(readCsv(empty, mapping))).code).toBe('DATA_EMPTY');
    const header = file('header.csv', 'x1,x2,label\n');
    const h = await caught(readCsv(header, mapping));
    expect(h.code).toBe('DATA_EMPTY');
    expect(h.message).toContain('header but no rows');
    const range = file('range.csv', 'x1,x2,label\n1,2,0\n1,2,2\n');
    const l = await caught(readCsv(range, mapping));
    expect(l.code).toBe('LABEL_OUT_OF_RANGE');
    expect(l.place).toBe(`${range}:3:label`);
    const unknown = await caught(
      readCsv(file('colour.csv', 'x,c\n1,red\n2,pink\n'), {
        fields: { x: 'x' },
        labels: { c: { column: 'c', classes: ['red', 'green'] } },
      }),
    );
    expect(unknown.code).toBe('LABEL_OUT_OF_RANGE');
    expect(unknown.message).toContain('"pink" in column "c" is not one of the classes (red, green)');
    expect((await caught(readCsv(join(dir, 'nope.csv'), mapping))).code).toBe('FILE_NOT_FOUND');
    const quote = await caught(readCsv(file('quote.csv', 'x1,x2,label\n1,"2,0\n'), mapping));
    expect(quote.code).toBe('CSV_PARSE');
  });

  it('reads another delimiter', async () => {
    const ds = await readCsv(file('semi.csv', 'x1;x2;label\n1;2;1\n'), { ...mapping, delimiter: ';' });
    expect(ds.row(0)).toEqual({ X: { point: [1, 2] }, Y: { inside: 1 } });
  });
});
