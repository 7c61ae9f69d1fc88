import { assertNoLeaks } from '@mtl/core';
import { describe, expect, it } from 'vitest';
import { DictDataset } from './dict-dataset.js';
import {
  applyPreprocessing,
  applyScaler,
  checkFittedPreprocessing,
  fitPreprocessing,
  fitScaler,
  invertScaler,
  tokenize,
  unscaleLabel,
  vocabularySize,
} from './preprocessing.js';

describe('scalers', () => {
  it('fits mean and population std per column, ignoring NaN', () => {
    // Columns: [1, 2, 3, 4] and [10, 10, 10, 10]; a NaN cell in column 0 is skipped.
    const rows = [1, 10, 2, 10, 3, 10, 4, 10, Number.NaN, 10];
    const s = fitScaler(rows, 2, 'standard');
    expect(s.offset).toEqual([2.5, 10]);
    expect(s.scale[0]).toBeCloseTo(Math.sqrt(1.25), 12);
    // A constant column is shifted, never divided by zero.
    expect(s.scale[1]).toBe(1);
    const out = applyScaler(rows, s);
    expect(out[0]).toBeCloseTo(-1.5 / Math.sqrt(1.25), 6);
    expect(out[1]).toBe(0);
    expect(Number.isNaN(out[8]!)).toBe(true);
  });

  it('fits min-max into [0, 1] and round-trips through the inverse', () => {
    const rows = [-2, 0, 6, 4];
    const s = fitScaler(rows, 1, 'minmax');
    expect(s).toEqual({ method: 'minmax', offset: [-2], scale: [8] });
    expect(Array.from(applyScaler(rows, s))).toEqual([0, 0.25, 1, 0.75]);
    const back = invertScaler(
      applyScaler([123.25, -7.5], fitScaler([3, 9, 27], 1, 'standard')),
      fitScaler([3, 9, 27], 1, 'standard'),
    );
    expect(back[0]).toBeCloseTo(123.25, 4);
    expect(back[1]).toBeCloseTo(-7.5, 4);
    expect(fitScaler(rows, 1, 'none')).toEqual({ method: 'none', offset: [0], scale: [1] });
  });
});

describe('fitPreprocessing / applyPreprocessing', () => {
  const train = new DictDataset(
    'd',
    'train',
    {
      x: [
        [1, 5],
        [3, 5],
        [5, 5],
      ],
      c: Int32Array.from([0, 1, 0]),
    },
    { y: [10.5, 20.5, 30.5], k: Int32Array.from([0, 1, 1]) },
    { labelKinds: { y: 'regression' }, dictionaries: { c: ['red', 'blue'] } },
  );

  it('fits on train only and applies to another split in the same units', () => {
    const fitted = fitPreprocessing(train, { fields: { x: 'standard' }, labels: { y: 'standard' } });
    expect(fitted.fields.x).toMatchObject({ kind: 'scale', offset: [3, 5], scale: [Math.sqrt(8 / 3), 1] });
    expect(fitted.labels.y!.offset[0]).toBeCloseTo(20.5, 10);
    const valid = new DictDataset(
      'd',
      'valid',
      { x: [[3, 7]], c: Int32Array.from([0]) },
      { y: [40.5], k: Int32Array.from([1]) },
      { labelKinds: { y: 'regression' }, dictionaries: { c: ['green'] } },
    );
    const out = applyPreprocessing(valid, fitted);
    expect(out.row(0).X.x).toEqual([0, 2]); // (3-3)/s, (7-5)/1
    expect(out.row(0).Y.y as number).toBeCloseTo(20 / Math.sqrt(200 / 3), 5);
    expect(out.row(0).Y.k).toBe(1);
    // An unseen category maps to the OOV id 0; known ones start at 1 (most frequent first).
    expect(fitted.fields.c).toEqual({ kind: 'categorical', tokens: ['red', 'blue'] });
    expect(out.row(0).X.c).toBe(0);
    expect(Array.from(applyPreprocessing(train, fitted).fieldValues('c'))).toEqual([1, 2, 1]);
    expect(Array.from(unscaleLabel(fitted, 'y', out.labelValues('y')))).toEqual([40.5]);
    // Plain JSON: survives a round trip and the check.
    const again = checkFittedPreprocessing(JSON.parse(JSON.stringify(fitted)), 'file');
    expect(applyPreprocessing(valid, again).row(0)).toEqual(out.row(0));
  });

  it('refuses unknown names and scaling a class label, naming the place', () => {
    expect(() => fitPreprocessing(train, { fields: { z: 'standard' } })).toThrow(
      /no field "z" to preprocess/,
    );
    try {
      fitPreprocessing(train, { labels: { k: 'standard' } });
      throw new Error('expected an error');
    } catch (e) {
      expect((e as Error).message).toContain('label "k" is class: only regression labels are scaled');
      expect((e as { place: string }).place).toBe('fitPreprocessing d/train labels.k');
    }
    expect(() => fitPreprocessing(train, { fields: { c: 'standard' } })).toThrow(/cannot be scaled/);
    expect(() => checkFittedPreprocessing({ format: 'x' }, 'f')).toThrow(/not fitted preprocessing/);
  });
});

describe('text fields', () => {
  it('tokenizes on whitespace, lower-cased by default', () => {
    expect(tokenize('  The cat\tSAT\n on ')).toEqual(['the', 'cat', 'sat', 'on']);
    expect(tokenize('The Cat', { lowercase: false })).toEqual(['The', 'Cat']);
    expect(tokenize('   ')).toEqual([]);
  });

  it('fits a vocabulary with minCount / maxSize and pads to maxLength with a mask', async () => {
    // Dictionary ids of tokens a, b, c, d; counts on train: a 3, b 2, c 1, d 2.
    const dict = ['a', 'b', 'c', 'd'];
    const train = new DictDataset(
      't',
      'train',
      { text: { values: Int32Array.from([0, 1, 0, 3, 0, 1, 2, 3]), offsets: [0, 2, 4, 8] } },
      {},
      { dictionaries: { text: dict } },
    );
    const fitted = fitPreprocessing(train, {
      fields: { text: { kind: 'text', minCount: 2, maxSize: 2, maxLength: 3 } },
    });
    // b and d tie at 2: code-point order breaks the tie, and maxSize 2 keeps a, b.
    expect(fitted.fields.text).toEqual({ kind: 'text', tokens: ['a', 'b'], maxLength: 3 });
    expect(vocabularySize(fitted.fields.text as { kind: 'text'; tokens: string[]; maxLength: number })).toBe(
      4,
    );
    const out = applyPreprocessing(train, fitted);
    expect(out.fieldInfo('text')).toEqual({ name: 'text', dtype: 'int32', ragged: false, rowShape: [3] });
    // ids: pad 0, OOV 1, a 2, b 3; rows truncated to 3.
    expect(out.row(0).X.text).toEqual([2, 3, 0]);
    expect(out.row(1).X.text).toEqual([2, 1, 0]);
    expect(out.row(2).X.text).toEqual([2, 3, 1]);
    expect(out.row(0).X.text_mask).toEqual([1, 1, 0]);
    expect(out.row(2).X.text_mask).toEqual([1, 1, 1]);
    // maxLength defaults to the longest train row.
    const auto = fitPreprocessing(train);
    expect(auto.fields.text).toMatchObject({ kind: 'text', maxLength: 4, tokens: ['a', 'b', 'd', 'c'] });
    await assertNoLeaks(() => {
      const b = out.collate([0, 1]);
      expect(b.X.text!.shape).toEqual([2, 3]);
      expect(b.X.text!.dtype).toBe('int32');
      expect(b.X.text_mask!.shape).toEqual([2, 3]);
      for (const t of Object.values(b.X)) t.dispose();
    });
  });
});
