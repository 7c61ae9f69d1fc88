import { describe, expect, it } from 'vitest';
import { makeVaeDomains } from './vae-domains.js';

function rows(ds: {
  length: number;
  row(i: number): { X: Record<string, unknown>; Y: Record<string, unknown> };
}) {
  return Array.from({ length: ds.length }, (_, i) => ds.row(i));
}

describe('makeVaeDomains', () => {
  it('gives T domains with the requested splits, a latent label and the true maps', () => {
    const ds = makeVaeDomains({ tasks: 3, train: [10, 20, 30], valid: 5, test: 40 }, 1);
    expect(ds.map((d) => d.name)).toEqual(['domain1', 'domain2', 'domain3']);
    expect(ds.map((d) => [d.train.length, d.valid?.length, d.test.length])).toEqual([
      [10, 5, 40],
      [20, 5, 40],
      [30, 5, 40],
    ]);
    expect(ds[0]!.train.name).toBe('domain1Dataset');
    expect(ds[0]!.train.fieldInfo('x').rowShape).toEqual([16]);
    expect(ds[0]!.train.labelInfo('domain1')).toMatchObject({ kind: 'regression', rowShape: [2] });
    expect(ds[0]!.A.length).toBe(32);
    expect(ds[0]!.b.length).toBe(16);
  });

  it('follows x = s·tanh(A_t z + b_t) + σ ε: the residuals have the noise variance', () => {
    const noise = 0.3;
    const [d] = makeVaeDomains({ tasks: 1, train: 2000, test: 1, noise, amplitude: 2 }, 4);
    let sum = 0;
    let sq = 0;
    let n = 0;
    for (const r of rows(d!.train)) {
      const x = r.X.x as number[];
      const z = r.Y.domain1 as number[];
      for (let i = 0; i < 16; i++) {
        const a = d!.b[i]! + d!.A[2 * i]! * z[0]! + d!.A[2 * i + 1]! * z[1]!;
        const e = x[i]! - 2 * Math.tanh(a);
        sum += e;
        sq += e * e;
        n++;
      }
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.01);
    expect(Math.sqrt(sq / n)).toBeCloseTo(noise, 2);
  });

  it('domains are related: A_t − A_u has the spread √2·taskSpread, far less than A itself', () => {
    const ds = makeVaeDomains({ tasks: 2, dim: 200, taskSpread: 0.1, mapScale: 1 }, 3);
    const diff = ds[0]!.A.map((a, i) => a - ds[1]!.A[i]!);
    const rms = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length);
    expect(rms(diff)).toBeCloseTo(0.1 * Math.SQRT2, 1);
    expect(rms(ds[0]!.A)).toBeGreaterThan(0.85);
  });

  it('is seeded, and more training rows leave the test rows unchanged', () => {
    const a = makeVaeDomains({ train: 64, test: 50 }, 7);
    const b = makeVaeDomains({ train: 4000, test: 50 }, 7);
    const c = makeVaeDomains({ train: 64, test: 50 }, 8);
    expect(rows(a[2]!.test)).toEqual(rows(b[2]!.test));
    expect(rows(a[2]!.train)).toEqual(rows(b[2]!.train).slice(0, 64));
    expect(rows(a[0]!.train)).not.toEqual(rows(c[0]!.train));
  });

  it('rejects bad options', () => {
    expect(() => makeVaeDomains({ tasks: 2, train: [1, 2, 3] })).toThrow(/train lists 3 sizes/);
    expect(() => makeVaeDomains({ noise: -1 })).toThrow(/noise/);
    expect(() => makeVaeDomains({ taskNames: ['a', 'a', 'b', 'c'] })).toThrow(/distinct/);
  });
});
