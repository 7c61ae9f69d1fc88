import { caught } from '@mtl/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DictDataset } from './dict-dataset.js';
import { splitDataset, splitIndices, splitSizes } from './split.js';

const code = (fn: () => unknown): string => caught(fn).code;

describe('splits', () => {
  it('has exact sizes: floor(ratio * n) for every split but the first, which takes the rest', () => {
    expect(splitSizes(1000, [0.8, 0.1, 0.1])).toEqual({ train: 800, valid: 100, test: 100 });
    expect(splitSizes(11, [0.8, 0.1, 0.1])).toEqual({ train: 9, valid: 1, test: 1 });
    expect(splitSizes(10, [0.7, 0.3])).toEqual({ train: 7, test: 3 });
    expect(splitSizes(600, { train: 0.8, test: 0.2 })).toEqual({ train: 480, test: 120 });
    expect(splitSizes(7, { a: 0.5, b: 0.25, c: 0.25 })).toEqual({ a: 5, b: 1, c: 1 });
    expect(Object.keys(splitSizes(7, { a: 0.5, b: 0.25, c: 0.25 }))).toEqual(['a', 'b', 'c']);
  });

  it('validates ratios', () => {
    expect(code(() => splitSizes(10, [0.8, 0.1]))).toBe('INVALID_ARGUMENT');
    expect(code(() => splitSizes(10, [1.2, -0.2]))).toBe('INVALID_ARGUMENT');
    expect(code(() => splitSizes(10, [Number.NaN, 1]))).toBe('INVALID_ARGUMENT');
    expect(code(() => splitSizes(10, [0.25, 0.25, 0.25, 0.25]))).toBe('INVALID_ARGUMENT');
    expect(code(() => splitSizes(10, {}))).toBe('INVALID_ARGUMENT');
    expect(code(() => splitSizes(10, { 'a/b': 1 }))).toBe('INVALID_ARGUMENT');
    expect(code(() => splitSizes(-1, [1]))).toBe('INVALID_ARGUMENT');
    expect(() => splitSizes(10, [0.8, 0.1])).toThrow('split ratios: ratios must sum to 1, got 0.9');
  });

  it('partitions 0..n-1 into disjoint sorted splits of those sizes, for any n and ratios (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc
          .array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 3 })
          .filter((w) => w.some((x) => x > 0)),
        fc.nat(),
        (n, weights, seed) => {
          const total = weights.reduce((a, b) => a + b, 0);
          const ratios = weights.map((w) => w / total);
          const sizes = Object.values(splitSizes(n, ratios));
          expect(sizes.reduce((a, b) => a + b, 0)).toBe(n);
          ratios.slice(1).forEach((r, i) => {
            expect(sizes[i + 1]).toBe(Math.floor(r * n + 1e-9));
          });
          const parts = Object.values(splitIndices(n, ratios, seed));
          expect(parts.map((p) => p.length)).toEqual(sizes);
          const all = parts.flatMap((p) => Array.from(p));
          expect([...all].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
          for (const p of parts) expect(Array.from(p)).toEqual([...p].sort((a, b) => a - b));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('is seeded: same seed same partition, different seed a different one', () => {
    const a = splitIndices(100, [0.8, 0.1, 0.1], 1);
    expect(splitIndices(100, [0.8, 0.1, 0.1], 1)).toEqual(a);
    expect(Array.from(splitIndices(100, [0.8, 0.1, 0.1], 2).test!)).not.toEqual(Array.from(a.test!));
  });

  it('splits a dataset into named splits with the same rows', () => {
    const ds = new DictDataset(
      'd',
      'all',
      { x: Array.from({ length: 20 }, (_, i) => [i, i * 2]) },
      {
        y: Array.from({ length: 20 }, (_, i) => i % 2),
      },
    );
    const { train, valid, test } = splitDataset(ds, [0.5, 0.25, 0.25], 3);
    expect([train!.split, valid!.split, test!.split]).toEqual(['train', 'valid', 'test']);
    expect([train!.length, valid!.length, test!.length]).toEqual([10, 5, 5]);
    const xs = [train!, valid!, test!].flatMap((d) => Array.from({ length: d.length }, (_, r) => d.row(r)));
    for (const r of xs) {
      const [a, b] = r.X.x as number[];
      expect(b).toBe(a! * 2);
      expect(r.Y.y).toBe(a! % 2);
    }
    expect(new Set(xs.map((r) => (r.X.x as number[])[0])).size).toBe(20);
  });
});
