import { RandomStream } from '@mtl/core';
import { describe, expect, it } from 'vitest';
import { type ImageSet, resizeArea, rotate90 } from './image-set.js';
import { makeMultiFashion, multiFashionImages } from './multi-fashion.js';

/** `count` 28 x 28 items whose pixels depend on the item (class = item mod 10). */
function synthetic(count: number, salt = 0): ImageSet {
  const images = new Uint8Array(count * 784);
  for (let i = 0; i < count; i++) {
    for (let p = 0; p < 784; p++) images[i * 784 + p] = (i * 31 + p * 7 + salt) % 256;
  }
  return {
    images,
    labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
    count,
    height: 28,
    width: 28,
  };
}

describe('image transforms', () => {
  it('rotate90 turns a small image counter-clockwise', () => {
    expect(Array.from(rotate90(new Float32Array([1, 2, 3, 4]), 2))).toEqual([2, 4, 1, 3]);
    // 1 2 3 / 4 5 6 / 7 8 9 -> 3 6 9 / 2 5 8 / 1 4 7
    const r = rotate90(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), 3);
    expect(Array.from(r)).toEqual([3, 6, 9, 2, 5, 8, 1, 4, 7]);
    let x: Float32Array = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (let k = 0; k < 4; k++) x = rotate90(x, 3);
    expect(Array.from(x)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('resizeArea averages blocks, and weights fractional pixels by their overlap', () => {
    expect(Array.from(resizeArea([1, 3, 5, 7], 2, 2, 1, 1))).toEqual([4]);
    expect(
      Array.from(resizeArea([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 4, 4, 2, 2)),
    ).toEqual([3.5, 5.5, 11.5, 13.5]);
    // 3 -> 2: out0 = (a + b/2) / 1.5, out1 = (b/2 + c) / 1.5.
    const [o0, o1] = resizeArea([3, 6, 9], 1, 3, 1, 2);
    expect(o0).toBeCloseTo((3 + 3) / 1.5, 5);
    expect(o1).toBeCloseTo((3 + 9) / 1.5, 5);
    expect(Array.from(resizeArea([1, 2, 3, 4], 2, 2, 2, 2))).toEqual([1, 2, 3, 4]);
  });
});

describe('makeMultiFashion', () => {
  it('puts one item at the top left and another shifted right and down, overlaid with the maximum', () => {
    const set = synthetic(20);
    const pool = Array.from({ length: 20 }, (_, i) => i);
    const full = multiFashionImages(set, pool, 30, { size: 36, shift: 8 }, new RandomStream(1));
    for (let i = 0; i < 30; i++) {
      const a = full.pairs[2 * i]!;
      const b = full.pairs[2 * i + 1]!;
      expect(a).not.toBe(b);
      expect(full.left[i]).toBe(set.labels[a]);
      expect(full.right[i]).toBe(set.labels[b]);
      const px = (r: number, c: number) => Math.round(full.pixels[i * 1296 + r * 36 + c]! * 255);
      const item = (k: number, r: number, c: number) => set.images[k * 784 + r * 28 + c]!;
      expect(px(0, 0)).toBe(item(a, 0, 0)); // left item only
      expect(px(35, 35)).toBe(item(b, 27, 27)); // right item only
      expect(px(0, 35)).toBe(0); // neither
      expect(px(10, 12)).toBe(Math.max(item(a, 10, 12), item(b, 2, 4))); // both
    }
    // 36 -> 18 is the mean of each 2 x 2 block of the canvas.
    const small = multiFashionImages(set, pool, 30, { size: 18 }, new RandomStream(1));
    expect(Array.from(small.pairs)).toEqual(Array.from(full.pairs));
    for (let i = 0; i < 3; i++) {
      const expected = resizeArea(full.pixels.subarray(i * 1296, (i + 1) * 1296), 36, 36, 18, 18);
      const got = small.pixels.subarray(i * 324, (i + 1) * 324);
      for (let k = 0; k < 324; k++) expect(got[k]).toBeCloseTo(expected[k]!, 6);
    }
  });

  it('is deterministic, keeps valid items out of the train pool, and draws test pairs from test items', () => {
    const source = { train: synthetic(120), test: synthetic(40, 3) };
    const a = makeMultiFashion(source, { train: 200, valid: 50, test: 60, size: 14 }, 5);
    const b = makeMultiFashion(source, { train: 200, valid: 50, test: 60, size: 14 }, 5);
    const c = makeMultiFashion(source, { train: 200, valid: 50, test: 60, size: 14 }, 6);
    expect(Object.keys(a)).toEqual(['train', 'valid', 'test']);
    expect([a.train!.length, a.valid!.length, a.test!.length]).toEqual([200, 50, 60]);
    expect(a.train!.fieldInfo('image').rowShape).toEqual([196]);
    expect(a.train!.labelInfo('left')).toMatchObject({ kind: 'class', numClasses: 10 });
    expect(Array.from(b.train!.fieldValues('image'))).toEqual(Array.from(a.train!.fieldValues('image')));
    expect(Array.from(b.test!.labelValues('right'))).toEqual(Array.from(a.test!.labelValues('right')));
    expect(Array.from(c.train!.fieldValues('image'))).not.toEqual(Array.from(a.train!.fieldValues('image')));
    // A larger train split starts with the smaller one's images; the other splits do not change.
    const more = makeMultiFashion(source, { train: 300, valid: 50, test: 60, size: 14 }, 5);
    expect(Array.from(more.train!.fieldValues('image').subarray(0, 200 * 196))).toEqual(
      Array.from(a.train!.fieldValues('image')),
    );
    expect(Array.from(more.valid!.fieldValues('image'))).toEqual(Array.from(a.valid!.fieldValues('image')));
    // The splits are the documented construction: pools from one seeded permutation (valid share
    // 1/6: 20 of 120 items), pairs from one stream per split; no item in both train and valid.
    const pools = { train: new Set<number>(), valid: new Set<number>() };
    const direct = (split: string, pool: number[], n: number) =>
      multiFashionImages(
        source.train,
        pool,
        n,
        { size: 14 },
        new RandomStream(5).child(`multifashion/${split}`),
      );
    const order = new RandomStream(5).child('multifashion/pools').permutation(120);
    const validPool = Array.from(order.subarray(0, 20));
    const trainPool = Array.from(order.subarray(20));
    const tr = direct('train', trainPool, 200);
    const va = direct('valid', validPool, 50);
    expect(Array.from(tr.pixels)).toEqual(Array.from(a.train!.fieldValues('image')));
    expect(Array.from(va.pixels)).toEqual(Array.from(a.valid!.fieldValues('image')));
    for (const k of tr.pairs) pools.train.add(k);
    for (const k of va.pairs) pools.valid.add(k);
    expect([...pools.train].filter((k) => pools.valid.has(k))).toEqual([]);
    expect(pools.valid.size).toBeLessThanOrEqual(20);
  });

  it('gives each task uniform labels and leaves out an empty split', () => {
    const source = { train: synthetic(600), test: synthetic(100) };
    const { train, valid, test } = makeMultiFashion(source, { train: 2000, valid: 0, test: 10 }, 0);
    expect(valid).toBeUndefined();
    expect(test!.length).toBe(10);
    for (const label of ['left', 'right']) {
      const counts = new Array(10).fill(0);
      for (const l of train!.labelValues(label)) counts[l]++;
      for (const n of counts) expect(Math.abs(n - 200)).toBeLessThan(60);
    }
  });

  it('refuses options it cannot honour', () => {
    const source = { train: synthetic(12), test: synthetic(12) };
    expect(() => makeMultiFashion(source, { train: -1 })).toThrow('train must be an integer >= 0');
    expect(() => makeMultiFashion(source, { size: 0 })).toThrow('size must be an integer >= 1');
    expect(() => makeMultiFashion(source, { validShare: 1 })).toThrow('validShare must be in (0, 1)');
    expect(() => makeMultiFashion({ train: synthetic(12), test: synthetic(1) }, {})).toThrow(
      'a pool of 1 items cannot make two-item images',
    );
  });
});
