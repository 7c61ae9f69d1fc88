import { describe, expect, it } from 'vitest';
import { makeMmoeSynthetic } from './mmoe-synthetic.js';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

describe('makeMmoeSynthetic', () => {
  it('draws weight vectors of norm c and cosine p, and labels by the paper formula', () => {
    const { splits, w1, w2 } = makeMmoeSynthetic(
      { n: 50, dim: 6, correlation: 0.5, scale: 2, noiseVariance: 0 },
      3,
    );
    expect(Math.sqrt(dot(w1, w1))).toBeCloseTo(2, 10);
    expect(Math.sqrt(dot(w2, w2))).toBeCloseTo(2, 10);
    expect(dot(w1, w2) / 4).toBeCloseTo(0.5, 10);
    expect(Object.fromEntries(Object.entries(splits).map(([k, v]) => [k, v.length]))).toEqual({
      train: 40,
      valid: 5,
      test: 5,
    });
    // Without noise each label is w·x + Σ_j sin(j·w·x + j²), j = 1..10.
    const ds = splits.test!;
    const x = ds.fieldValues('x');
    const y2 = ds.labelValues('y2');
    for (let i = 0; i < ds.length; i++) {
      const wx = dot(w2, x.subarray(i * 6, i * 6 + 6));
      let y = wx;
      for (let j = 1; j <= 10; j++) y += Math.sin(j * wx + j * j);
      expect(y2[i]).toBeCloseTo(y, 4);
    }
  });

  it('is deterministic from the seed, and p = 1 gives equal tasks up to the noise', () => {
    const a = makeMmoeSynthetic({ n: 200, correlation: 1 }, 11);
    const b = makeMmoeSynthetic({ n: 200, correlation: 1 }, 11);
    expect(Array.from(a.splits.train!.labelValues('y1'))).toEqual(
      Array.from(b.splits.train!.labelValues('y1')),
    );
    const c = makeMmoeSynthetic({ n: 200, correlation: 1 }, 12);
    expect(c.splits.train!.labelValues('y1')[0]).not.toBe(a.splits.train!.labelValues('y1')[0]);
    const y1 = a.splits.train!.labelValues('y1');
    const y2 = a.splits.train!.labelValues('y2');
    let gap = 0;
    for (let i = 0; i < y1.length; i++) gap = Math.max(gap, Math.abs(y1[i]! - y2[i]!));
    // two noise draws of sd 0.1 apart: well under 1, far from the labels' spread
    expect(gap).toBeLessThan(1);
    expect(gap).toBeGreaterThan(0);
  });

  it('refuses a correlation outside [-1, 1]', () => {
    expect(() => makeMmoeSynthetic({ correlation: 1.5 })).toThrow(
      /correlation must be in \[-1, 1\], got 1.5/,
    );
    expect(() => makeMmoeSynthetic({ dim: 1 })).toThrow(/dim must be at least 2/);
  });
});
