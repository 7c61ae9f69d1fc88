// An empty label cell (CSV) or a null (JSONL) is a missing label for every kind of label: it
// abstains (-1 for class ids and multi-label cells, a -1 row for soft rows, NaN for regression).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMtlError } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeBatch } from './batch.js';
import { DictDataset } from './dict-dataset.js';
import { readCsv } from './read-csv.js';
import { readJsonl } from './read-jsonl.js';

const dir = mkdtempSync(join(tmpdir(), 'mtl-data-missing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const mapping = {
  fields: { x: ['x1', 'x2'] },
  labels: {
    price: { column: 'price', kind: 'regression' as const },
    colour: { column: 'colour', classes: ['red', 'green', 'blue'] },
    tags: { column: ['t0', 't1', 't2'], kind: 'multilabel' as const },
    mix: { column: ['p0', 'p1'], kind: 'soft' as const },
  },
};

describe('missing labels', () => {
  it('CSV: an empty cell abstains in regression, class, multi-label and soft labels', async () => {
    const path = file(
      'partial.csv',
      [
        'x1,x2,price,colour,t0,t1,t2,p0,p1',
        '0.1,0.2,1.5,red,1,0,1,0.3,0.7',
        '0.3,0.4,,green,,1,,,',
        '0.5,0.6,-2,,0,,1,1,0',
        '0.7,0.8,,,,,,,',
      ].join('\n'),
    );
    const ds = await readCsv(path, mapping);
    expect(Array.from(ds.labelValues('price'))).toEqual([1.5, Number.NaN, -2, Number.NaN]);
    expect(Array.from(ds.labelValues('colour'))).toEqual([0, 1, -1, -1]);
    expect(Array.from(ds.labelValues('tags'))).toEqual([1, 0, 1, -1, 1, -1, 0, -1, 1, -1, -1, -1]);
    expect(Array.from(ds.labelValues('mix'))).toEqual([
      0.30000001192092896, 0.699999988079071, -1, -1, 1, 0, -1, -1,
    ]);
    expect(ds.labelInfo('price')).toMatchObject({ kind: 'regression', rowShape: [] });
    expect(ds.labelInfo('tags')).toMatchObject({ kind: 'multilabel', rowShape: [3] });
    // Batches carry the abstains as the tasks read them.
    const before = tf.memory().numTensors;
    const batch = ds.collate([1, 3]);
    expect(Array.from(batch.Y.price!.dataSync())).toEqual([Number.NaN, Number.NaN]);
    expect(Array.from(batch.Y.colour!.dataSync())).toEqual([1, -1]);
    disposeBatch(batch);
    expect(tf.memory().numTensors).toBe(before);
    // A field cell may not be empty, nor a soft row half empty, and "NaN" in a label is still refused.
    const emptyField = readCsv(file('f.csv', 'x1,x2,price\n0.1,,1\n'), { fields: { x: ['x1', 'x2'] } });
    await expect(emptyField).rejects.toMatchObject({ code: 'CSV_PARSE' });
    const half = readCsv(file('h.csv', 'x1,x2,p0,p1\n0.1,0.2,1,\n'), {
      fields: { x: ['x1', 'x2'] },
      labels: { mix: { column: ['p0', 'p1'], kind: 'soft' } },
    });
    await expect(half).rejects.toMatchObject({ code: 'DATA_INVALID' });
    await expect(half).rejects.toThrow('label "mix" row 0 misses some probabilities');
    const nan = readCsv(file('n.csv', 'x1,x2,price\n0.1,0.2,NaN\n'), {
      fields: { x: ['x1', 'x2'] },
      labels: { price: { column: 'price', kind: 'regression' } },
    });
    await expect(nan).rejects.toMatchObject({ code: 'DATA_NON_FINITE' });
  });

  it('JSONL: null abstains, as a whole value or as one entry, even before the first value', async () => {
    const path = file(
      'partial.jsonl',
      [
        '{"x": [0, 1], "price": null, "tags": null, "y": [1, null]}',
        '{"x": [1, 0], "price": 2.5, "tags": [1, null, 0], "y": [null, 3]}',
        '{"x": [1, 1], "price": null, "tags": [0, 1, 1], "y": null}',
      ].join('\n'),
    );
    const ds = await readJsonl(path, {
      fields: { x: 'x' },
      labels: {
        price: { column: 'price', kind: 'regression' },
        tags: { column: 'tags', kind: 'multilabel' },
        y: { column: 'y', kind: 'regression' },
      },
    });
    expect(Array.from(ds.labelValues('price'))).toEqual([Number.NaN, 2.5, Number.NaN]);
    expect(Array.from(ds.labelValues('tags'))).toEqual([-1, -1, -1, 1, -1, 0, 0, 1, 1]);
    expect(Array.from(ds.labelValues('y'))).toEqual([1, Number.NaN, Number.NaN, 3, Number.NaN, Number.NaN]);
    // A label key absent from a line abstains like null.
    const absent = await readJsonl(
      file('absent.jsonl', '{"x": 1, "c": 1, "r": 0.5}\n{"x": 2}\n{"x": 3, "r": 2}\n'),
      {
        fields: { x: 'x' },
        labels: { c: { column: 'c', numClasses: 2 }, r: { column: 'r', kind: 'regression' } },
      },
    );
    expect(Array.from(absent.labelValues('c'))).toEqual([1, -1, -1]);
    expect(Array.from(absent.labelValues('r'))).toEqual([0.5, Number.NaN, 2]);
    const allNull = await readJsonl(file('null.jsonl', '{"x": 1, "v": null}\n{"x": 2, "v": null}\n'), {
      fields: { x: 'x' },
      labels: { v: { column: 'v', kind: 'regression' } },
    });
    expect(Array.from(allNull.labelValues('v'))).toEqual([Number.NaN, Number.NaN]);
  });

  it('DictDataset: NaN is a missing label (inferred kinds look at the values present); Infinity is refused', () => {
    const ds = new DictDataset(
      'd',
      'train',
      { x: [1, 2, 3] },
      {
        reg: [0.5, Number.NaN, 1.25],
        cls: [0, Number.NaN, 2],
        ml: [
          [1, Number.NaN],
          [0, 1],
          [Number.NaN, 0],
        ],
      },
    );
    expect(ds.labelInfo('reg').kind).toBe('regression');
    expect(ds.labelInfo('cls').kind).toBe('class');
    expect(Array.from(ds.labelValues('cls'))).toEqual([0, -1, 2]);
    expect(ds.labelInfo('ml').kind).toBe('multilabel');
    expect(Array.from(ds.labelValues('ml'))).toEqual([1, -1, 0, 1, -1, 0]);
    // The subset keeps the missing values.
    expect(Array.from(ds.subset([1, 0]).labelValues('reg'))).toEqual([Number.NaN, 0.5]);
    let e: unknown;
    try {
      new DictDataset('d', 'train', { x: [1, 2] }, { reg: [1, Number.POSITIVE_INFINITY] });
    } catch (err) {
      e = err;
    }
    expect(isMtlError(e, 'DATA_NON_FINITE')).toBe(true);
    // Fields still refuse NaN.
    expect(() => new DictDataset('d', 'train', { x: [1, Number.NaN] })).toThrow(/non-finite value NaN/);
  });
});
