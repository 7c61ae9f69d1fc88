import { assertNoLeaks } from '@mtl/core';
import { caught } from '@mtl/core/testing';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { disposeBatch } from './batch.js';
import { DictDataset } from './dict-dataset.js';

describe('DictDataset', () => {
  it('stores nested rows flat and collates them in the order asked', async () => {
    const ds = new DictDataset(
      'circleDataset',
      'train',
      {
        circle_data: [
          [0.5, -1],
          [2, 3],
          [-4, 0.25],
        ],
      },
      { circle_task: [1, 0, -1] },
      { numClasses: 2 },
    );
    expect(ds.length).toBe(3);
    expect(ds.fieldInfo('circle_data')).toEqual({
      name: 'circle_data',
      dtype: 'float32',
      ragged: false,
      rowShape: [2],
    });
    expect(ds.labelInfo('circle_task')).toEqual({
      name: 'circle_task',
      kind: 'class',
      dtype: 'int32',
      rowShape: [],
      numClasses: 2,
    });
    expect(Array.from(ds.fieldValues('circle_data'))).toEqual([0.5, -1, 2, 3, -4, 0.25]);
    await assertNoLeaks(() => {
      const b = ds.collate([2, 0]);
      expect(b.dataset).toBe('circleDataset');
      expect(b.split).toBe('train');
      expect(b.size).toBe(2);
      expect(Array.from(b.indices)).toEqual([2, 0]);
      expect(b.X.circle_data!.shape).toEqual([2, 2]);
      expect(b.X.circle_data!.dtype).toBe('float32');
      expect(Array.from(b.X.circle_data!.dataSync())).toEqual([-4, 0.25, 0.5, -1]);
      expect(b.Y.circle_task!.dtype).toBe('int32');
      expect(Array.from(b.Y.circle_task!.dataSync())).toEqual([-1, 1]);
      disposeBatch(b);
    });
  });

  it('takes its length from the inputs, so unlabeled data works (Snorkel took it from the labels)', async () => {
    const ds = new DictDataset('unlabeled', 'test', { x: new Float32Array([1, 2, 3, 4]) });
    expect(ds.length).toBe(4);
    expect(ds.labelNames).toEqual([]);
    await assertNoLeaks(() => {
      const b = ds.collate([3, 1]);
      expect(Object.keys(b.Y)).toEqual([]);
      expect(b.X.x!.shape).toEqual([2]);
      expect(Array.from(b.X.x!.dataSync())).toEqual([4, 2]);
      disposeBatch(b);
    });
  });

  it('accepts tensors (without disposing them), typed arrays and {values, shape}', () => {
    const t = tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]);
    const ids = tf.tensor1d([3, 1], 'int32');
    const ds = new DictDataset('d', 'train', {
      img: t,
      flat: { values: [9, 8, 7, 6], shape: [2, 2] },
      tokens: new Int32Array([5, 6]),
      ids,
    });
    expect(t.isDisposed).toBe(false);
    expect(ds.fieldInfo('img').rowShape).toEqual([2, 2]);
    expect(ds.fieldInfo('tokens').dtype).toBe('int32');
    expect(ds.fieldInfo('ids').dtype).toBe('int32');
    expect(ds.row(1)).toEqual({ X: { img: [5, 6, 7, 8], flat: [7, 6], tokens: 6, ids: 1 }, Y: {} });
    const b = ds.collate([1]);
    expect(b.X.img!.shape).toEqual([1, 2, 2]);
    expect(b.X.tokens!.dtype).toBe('int32');
    disposeBatch(b);
    t.dispose();
    ids.dispose();
  });

  it('pads variable-length fields at collate and supplies the mask (hand case)', async () => {
    const ds = new DictDataset('seq', 'train', { tokens: [[1, 2, 3], [4], [5, 6]] }, { y: [0, 1, 1] });
    expect(ds.fieldInfo('tokens')).toEqual({ name: 'tokens', dtype: 'float32', ragged: true, rowShape: [3] });
    expect(Array.from(ds.fieldOffsets('tokens')!)).toEqual([0, 3, 4, 6]);
    await assertNoLeaks(() => {
      const b = ds.collate([1, 2]);
      // The batch's longest row is 2, not the dataset's 3.
      expect(b.X.tokens!.shape).toEqual([2, 2]);
      expect(b.X.tokens!.arraySync()).toEqual([
        [4, 0],
        [5, 6],
      ]);
      expect(b.X.tokens_mask!.arraySync()).toEqual([
        [1, 0],
        [1, 1],
      ]);
      disposeBatch(b);
      const all = ds.collate([0, 1, 2]);
      expect(all.X.tokens!.arraySync()).toEqual([
        [1, 2, 3],
        [4, 0, 0],
        [5, 6, 0],
      ]);
      expect(all.X.tokens_mask!.arraySync()).toEqual([
        [1, 1, 1],
        [1, 0, 0],
        [1, 1, 0],
      ]);
      disposeBatch(all);
    });
    const padded = new DictDataset(
      'seq',
      'train',
      { tokens: [new Int32Array([7]), new Int32Array([8, 9])] },
      {},
      {
        padValue: -1,
      },
    );
    const b = padded.collate([0, 1]);
    expect(b.X.tokens!.dtype).toBe('int32');
    expect(b.X.tokens!.arraySync()).toEqual([
      [7, -1],
      [8, 9],
    ]);
    disposeBatch(b);
    const flat = new DictDataset('seq', 'train', { t: { values: [1, 2, 3], offsets: [0, 1, 3] } });
    expect(flat.row(1).X.t).toEqual([2, 3]);
  });

  it('infers label kinds: class ids, soft rows, multi-label rows, regression targets', () => {
    const ds = new DictDataset(
      'd',
      'train',
      { x: [1, 2] },
      {
        cls: [0, 2],
        soft: [
          [0.25, 0.75],
          [1, 0],
        ],
        multi: [
          [1, 1, 0],
          [0, 0, 1],
        ],
        reg: [0.5, 1],
        vec: [
          [2, 3],
          [4, 5],
        ],
      },
    );
    expect(ds.labelInfo('cls').kind).toBe('class');
    expect(ds.labelInfo('soft').kind).toBe('soft');
    expect(ds.labelInfo('multi').kind).toBe('multilabel');
    expect(ds.labelInfo('reg').kind).toBe('regression');
    expect(ds.labelInfo('vec').kind).toBe('regression');
    const b = ds.collate([0, 1]);
    expect(b.Y.soft!.shape).toEqual([2, 2]);
    expect(b.Y.soft!.dtype).toBe('float32');
    expect(Array.from(b.Y.soft!.dataSync())).toEqual([0.25, 0.75, 1, 0]);
    expect(b.Y.reg!.dtype).toBe('float32');
    disposeBatch(b);
    const declared = new DictDataset(
      'd',
      'train',
      { x: [1, 2] },
      { r: [1, 2] },
      { labelKinds: { r: 'regression' } },
    );
    expect(declared.labelInfo('r')).toMatchObject({ kind: 'regression', dtype: 'float32' });
  });

  it('names the field and both lengths when lengths differ (DATA_LENGTH_MISMATCH)', () => {
    const e = caught(() => new DictDataset('d', 'train', { a: [1, 2, 3], b: [1, 2] }));
    expect(e.code).toBe('DATA_LENGTH_MISMATCH');
    expect(e.message).toBe('dataset d/train: field "b" has 2 rows but field "a" has 3');
    const l = caught(() => new DictDataset('d', 'train', { a: [1, 2, 3] }, { y: [0, 1] }));
    expect(l.code).toBe('DATA_LENGTH_MISMATCH');
    expect(l.message).toContain('label "y" has 2 rows but field "a" has 3');
  });

  it('names field and row of NaN / Infinity (DATA_NON_FINITE), from arrays, typed arrays and tensors', () => {
    const a = caught(
      () =>
        new DictDataset('d', 'train', {
          x: [
            [1, 2],
            [3, 4],
            [5, 6],
            [7, Number.NaN],
          ],
        }),
    );
    expect(a.code).toBe('DATA_NON_FINITE');
    expect(a.place).toBe('dataset d/train field "x" row 3');
    expect(a.message).toContain('NaN');
    const b = caught(
      () =>
        new DictDataset('d', 'train', {
          x: { values: new Float32Array([0, 1, 2, Infinity]), shape: [2, 2] },
        }),
    );
    expect(b.code).toBe('DATA_NON_FINITE');
    expect(b.place).toBe('dataset d/train field "x" row 1');
    const t = tf.tensor1d([0, Number.NaN]);
    const c = caught(() => new DictDataset('d', 'train', { x: t }));
    t.dispose();
    expect(c.place).toBe('dataset d/train field "x" row 1');
    const d = caught(() => new DictDataset('d', 'train', { x: [1, 2] }, { y: [0.5, -Infinity] }));
    expect(d.code).toBe('DATA_NON_FINITE');
    expect(d.place).toBe('dataset d/train label "y" row 1');
    const r = caught(() => new DictDataset('d', 'train', { x: [[1], [2, Number.NaN]] }));
    expect(r.place).toBe('dataset d/train field "x" row 1');
  });

  it('rejects rows whose shapes disagree (DATA_SHAPE_MISMATCH), but allows ragged 1-D fields', () => {
    const deep = caught(() => new DictDataset('d', 'train', { x: [[[1, 2]], [[1], [2]]] }));
    expect(deep.code).toBe('DATA_SHAPE_MISMATCH');
    expect(deep.place).toBe('dataset d/train field "x" row 1');
    const mixed = caught(() => new DictDataset('d', 'train', { x: [[1, 2], 3] }));
    expect(mixed.code).toBe('DATA_SHAPE_MISMATCH');
    const inner = caught(
      () =>
        new DictDataset('d', 'train', {
          x: [
            [
              [1, 2],
              [3, 4],
            ],
            [[1, 2], [3]],
          ],
        }),
    );
    expect(inner.code).toBe('DATA_SHAPE_MISMATCH');
    expect(inner.message).toContain('shape [2, 2] of row 0');
    const label = caught(() => new DictDataset('d', 'train', { x: [1, 2] }, { y: [[0.5, 0.5], [1]] }));
    expect(label.code).toBe('DATA_SHAPE_MISMATCH');
    expect(label.place).toBe('dataset d/train label "y" row 1');
    const fill = caught(() => new DictDataset('d', 'train', { x: { values: [1, 2, 3], shape: [2, 2] } }));
    expect(fill.code).toBe('DATA_SHAPE_MISMATCH');
    const notNum = caught(() => new DictDataset('d', 'train', { x: [1, 'a' as unknown as number] }));
    expect(notNum.code).toBe('DATA_INVALID');
    expect(notNum.place).toBe('dataset d/train field "x" row 1');
  });

  it('checks class ids against numClasses, naming label and row; -1 (abstain) is allowed', () => {
    const ok = new DictDataset('d', 'train', { x: [1, 2, 3] }, { y: [0, -1, 2] }, { numClasses: 3 });
    expect(Array.from(ok.labelValues('y'))).toEqual([0, -1, 2]);
    const e = caught(
      () => new DictDataset('d', 'train', { x: [1, 2, 3] }, { y: [0, 3, 1] }, { numClasses: { y: 3 } }),
    );
    expect(e.code).toBe('LABEL_OUT_OF_RANGE');
    expect(e.place).toBe('dataset d/train label "y" row 1');
    expect(e.message).toContain('row 1 is 3, outside the class range (ids lie in [0, 3)');
    const neg = caught(() => new DictDataset('d', 'train', { x: [1, 2] }, { y: [0, -2] }));
    expect(neg.code).toBe('LABEL_OUT_OF_RANGE');
    expect(neg.place).toBe('dataset d/train label "y" row 1');
    const frac = caught(
      () => new DictDataset('d', 'train', { x: [1, 2] }, { y: [0, 0.5] }, { labelKinds: { y: 'class' } }),
    );
    expect(frac.code).toBe('DATA_INVALID');
    const multi = caught(
      () => new DictDataset('d', 'train', { x: [1] }, { m: [[0, 2]] }, { labelKinds: { m: 'multilabel' } }),
    );
    expect(multi.code).toBe('LABEL_OUT_OF_RANGE');
  });

  it('validates soft labels: probabilities, rows summing to 1, width = numClasses', () => {
    const sum = caught(
      () => new DictDataset('d', 'train', { x: [1] }, { s: [[0.5, 0.6]] }, { labelKinds: { s: 'soft' } }),
    );
    expect(sum.code).toBe('DATA_INVALID');
    expect(sum.message).toContain('row 0 sums to 1.1');
    const width = caught(
      () => new DictDataset('d', 'train', { x: [1] }, { s: [[0.5, 0.5]] }, { numClasses: { s: 3 } }),
    );
    expect(width.code).toBe('DATA_SHAPE_MISMATCH');
    const soft = new DictDataset('d', 'train', { x: [1] }, { s: [[0.2, 0.3, 0.5]] }, { numClasses: 3 });
    expect(soft.labelInfo('s')).toMatchObject({ kind: 'soft', numClasses: 3, rowShape: [3] });
  });

  it('rejects bad names and empty inputs', () => {
    expect(caught(() => new DictDataset('a/b', 'train', { x: [1] })).code).toBe('INVALID_ARGUMENT');
    expect(caught(() => new DictDataset('a', '', { x: [1] })).code).toBe('INVALID_ARGUMENT');
    expect(caught(() => new DictDataset('a', 'train', {})).code).toBe('DATA_EMPTY');
    expect(caught(() => new DictDataset('a', 'train', { x: [[1], [1, 2]], x_mask: [1, 2] })).code).toBe(
      'DUPLICATE_NAME',
    );
    const ds = new DictDataset('a', 'train', { x: [1] });
    const unknown = caught(() => ds.fieldInfo('nope'));
    expect(unknown.code).toBe('UNKNOWN_FIELD');
    expect(unknown.message).toContain('fields: x');
    expect(caught(() => ds.collate([1])).code).toBe('INVALID_ARGUMENT');
    expect(
      caught(() => new DictDataset('a', 'train', { x: [1] }, {}, { labelKinds: { y: 'class' } })).code,
    ).toBe('UNKNOWN_FIELD');
  });

  it('copies inputs unless told to adopt them', () => {
    const values = new Float32Array([1, 2]);
    const copied = new DictDataset('a', 'train', { x: values });
    const adopted = new DictDataset('a', 'train', { x: values }, {}, { copy: false });
    values[0] = 9;
    expect(copied.fieldValues('x')[0]).toBe(1);
    expect(adopted.fieldValues('x')[0]).toBe(9);
  });

  it('subset copies rows in order and keeps label kinds', () => {
    const ds = new DictDataset(
      'd',
      'all',
      {
        x: [
          [1, 1],
          [2, 2],
          [3, 3],
        ],
        t: [[1], [2, 2], [3, 3, 3]],
      },
      { y: [0, 1, 2] },
      {
        numClasses: 3,
      },
    );
    const sub = ds.subset([2, 0], 'valid');
    expect(sub.split).toBe('valid');
    expect(sub.length).toBe(2);
    expect(sub.row(0)).toEqual({ X: { x: [3, 3], t: [3, 3, 3] }, Y: { y: 2 } });
    expect(sub.row(1)).toEqual({ X: { x: [1, 1], t: [1] }, Y: { y: 0 } });
    expect(sub.labelInfo('y')).toMatchObject({ kind: 'class', numClasses: 3 });
  });

  it('collate equals gathering rows one by one (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 20 }),
        (n, d, picks) => {
          const rows = Array.from({ length: n }, (_, i) => Array.from({ length: d }, (_, j) => i * 10 + j));
          const ds = new DictDataset('p', 'train', { x: rows }, { y: rows.map((_, i) => i % 3) });
          const idx = picks.map((p) => p % n);
          const b = ds.collate(idx);
          const got = b.X.x!.arraySync();
          const ys = Array.from(b.Y.y!.dataSync());
          disposeBatch(b);
          expect(got).toEqual(idx.map((i) => rows[i]));
          expect(ys).toEqual(idx.map((i) => i % 3));
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('DictDataset.withLabels', () => {
  it('adds labels to the same rows, keeping fields, labels, kinds and dictionaries; refuses a taken name', () => {
    const ds = new DictDataset(
      'd',
      'valid',
      {
        x: [
          [1, 2],
          [3, 4],
          [5, 6],
        ],
        tokens: [[1], [2, 3], []],
        colour: Int32Array.from([0, 1, 0]),
      },
      { y: Int32Array.from([0, 1, -1]) },
      { numClasses: 3, dictionaries: { colour: ['red', 'blue'] } },
    );
    const more = ds.withLabels({ in_s: Int32Array.from([1, 0, 1]) }, { numClasses: { in_s: 2 } });
    expect([more.name, more.split, more.length]).toEqual(['d', 'valid', 3]);
    expect(more.labelNames).toEqual(['y', 'in_s']);
    expect(more.labelInfo('y')).toEqual(ds.labelInfo('y'));
    expect(more.labelInfo('in_s')).toEqual({
      name: 'in_s',
      kind: 'class',
      dtype: 'int32',
      rowShape: [],
      numClasses: 2,
    });
    expect(more.row(1)).toEqual({ X: { x: [3, 4], tokens: [2, 3], colour: 1 }, Y: { y: 1, in_s: 0 } });
    expect(Array.from(more.fieldOffsets('tokens')!)).toEqual([0, 1, 3, 3]);
    expect(more.fieldDictionary('colour')).toEqual(['red', 'blue']);
    expect(ds.labelNames).toEqual(['y']);
    const e = caught(() => ds.withLabels({ y: [1, 1, 1] }));
    expect([e.code, e.reason]).toEqual(['DUPLICATE_NAME', 'the dataset already has a label "y"']);
  });
});
