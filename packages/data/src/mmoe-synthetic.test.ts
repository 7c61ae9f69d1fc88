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

  it('uses given a_j, b_j (a row by hand) and draws them from N(0, 1) with `normal`', () => {
    const { splits, w1, alphas, betas } = makeMmoeSynthetic(
      { n: 20, dim: 4, scale: 0.3, sines: 2, alphas: [0.5, -2], betas: [0.25, 3], noiseVariance: 0 },
      4,
    );
    expect(Math.sqrt(dot(w1, w1))).toBeCloseTo(0.3, 10);
    expect([alphas, betas]).toEqual([
      [0.5, -2],
      [0.25, 3],
    ]);
    const ds = splits.train!;
    const wx = dot(w1, ds.fieldValues('x').subarray(0, 4));
    expect(ds.labelValues('y1')[0]).toBeCloseTo(wx + Math.sin(0.5 * wx + 0.25) + Math.sin(-2 * wx + 3), 5);

    // The default a_j = j, b_j = j² are reported as used.
    expect(makeMmoeSynthetic({ n: 10, sines: 3 }, 4).betas).toEqual([1, 4, 9]);

    // A standard normal draw: over 2,000 values the mean is within 0.1 of 0 and the sd within 0.1
    // of 1 (a uniform draw on [-1, 1] would have sd 0.58; the paper's a_j = j, mean 1000).
    const drawn = makeMmoeSynthetic({ n: 10, dim: 2, sines: 2000, alphas: 'normal', betas: 'normal' }, 4);
    for (const values of [drawn.alphas, drawn.betas]) {
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      expect(Math.abs(mean)).toBeLessThan(0.1);
      expect(Math.abs(sd - 1)).toBeLessThan(0.1);
    }
    expect(drawn.alphas.slice(0, 5)).not.toEqual(drawn.betas.slice(0, 5));
    // Fixed by the seed; drawing them leaves the rows (x) as they were.
    const again = makeMmoeSynthetic({ n: 10, dim: 2, sines: 2000, alphas: 'normal' }, 4);
    expect(again.alphas).toEqual(drawn.alphas);
    expect(again.betas[1]).toBe(4);
    expect(Array.from(again.splits.train!.fieldValues('x'))).toEqual(
      Array.from(drawn.splits.train!.fieldValues('x')),
    );
    expect(makeMmoeSynthetic({ n: 10, sines: 3, alphas: 'normal' }, 5).alphas).not.toEqual(
      makeMmoeSynthetic({ n: 10, sines: 3, alphas: 'normal' }, 4).alphas,
    );
  });

  it('gives the label variance of the issue default and of keras-mmoe-like data', () => {
    // Var(y) for y = z + Σ_j sin(a_j z + b_j), z ~ N(0, c²), by quadrature over z (independent of
    // the generator): the sample variance over 20,000 rows must match it within sampling error.
    const exact = (c: number, a: number[], b: number[]) => {
      let m1 = 0;
      let m2 = 0;
      const steps = 20_000;
      for (let k = 0; k <= steps; k++) {
        const z = -8 * c + (16 * c * k) / steps;
        const pdf = Math.exp(-(z * z) / (2 * c * c)) / (c * Math.sqrt(2 * Math.PI));
        let y = z;
        for (let j = 0; j < a.length; j++) y += Math.sin(a[j]! * z + b[j]!);
        const wgt = ((16 * c) / steps) * pdf * (k === 0 || k === steps ? 0.5 : 1);
        m1 += wgt * y;
        m2 += wgt * y * y;
      }
      return m2 - m1 * m1;
    };
    const variance = (ys: ArrayLike<number>) => {
      let m = 0;
      for (let i = 0; i < ys.length; i++) m += ys[i]!;
      m /= ys.length;
      let v = 0;
      for (let i = 0; i < ys.length; i++) v += (ys[i]! - m) ** 2;
      return v / (ys.length - 1);
    };
    const paper = makeMmoeSynthetic({ n: 20_000, dim: 10, noiseVariance: 0, ratios: { train: 1 } }, 2);
    const j = Array.from({ length: 10 }, (_, i) => i + 1);
    const want = exact(
      1,
      j,
      j.map((v) => v * v),
    );
    expect(want).toBeCloseTo(6.137, 3);
    expect(Math.abs(variance(paper.splits.train!.labelValues('y1')) / want - 1)).toBeLessThan(0.03);
    const gentle = makeMmoeSynthetic(
      {
        n: 20_000,
        dim: 10,
        scale: 0.3,
        sines: 5,
        alphas: 'normal',
        betas: 'normal',
        noiseVariance: 0,
        ratios: { train: 1 },
      },
      2,
    );
    const wantGentle = exact(0.3, gentle.alphas, gentle.betas);
    expect(Math.abs(variance(gentle.splits.train!.labelValues('y2')) / wantGentle - 1)).toBeLessThan(0.05);
  });

  it('refuses a correlation outside [-1, 1]', () => {
    expect(() => makeMmoeSynthetic({ correlation: 1.5 })).toThrow(
      /correlation must be in \[-1, 1\], got 1.5/,
    );
    expect(() => makeMmoeSynthetic({ dim: 1 })).toThrow(/dim must be at least 2/);
    expect(() => makeMmoeSynthetic({ sines: 3, betas: [1, 2] })).toThrow(
      /betas needs 3 finite values \(one per sine\), got 2/,
    );
  });
});
