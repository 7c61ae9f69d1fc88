import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cagradDual } from './cagrad.js';
import { dot, gramian, matVec, norm, scaled, symmetricEigen, trace } from './linalg.js';
import { expectClose, jacobianArb, make, matrix, rowsOf, run } from './test-helpers.js';

// Closed forms and hand computations for the gradient-level methods: numbers that would be
// wrong if the algorithm were wrong, beyond the laws.
const RUNS = { numRuns: 80, seed: 7 };
const ones = (m: number) => new Float64Array(m).fill(1);
const rowsF = (J: ReturnType<typeof matrix>) => rowsOf(J).map((r) => Float64Array.from(r));

describe('MGDA', () => {
  it('with two tasks is the min-norm point of the segment: w₁ = clip(⟨g₂ − g₁, g₂⟩/‖g₁ − g₂‖², 0, 1)', () => {
    fc.assert(
      fc.property(jacobianArb(2, 2), ({ J, losses }) => {
        const [g1, g2] = rowsF(J);
        const diff = g1!.map((x, k) => x - g2![k]!);
        const dd = dot(diff, diff);
        const w1 =
          dd > 0
            ? Math.min(
                1,
                Math.max(
                  0,
                  dot(
                    g2!.map((x, k) => x - g1![k]!),
                    g2!,
                  ) / dd,
                ),
              )
            : 0.5;
        const expected = g1!.map((x, k) => w1 * x + (1 - w1) * g2![k]!);
        expectClose(run(make('mgda', 2), J, losses), expected, J, 1e-6);
      }),
      RUNS,
    );
  });

  it('normalize "l2" finds the min-norm point of the unit gradients (orthogonal rows: equal weights on units)', () => {
    const J = matrix([
      [3, 0],
      [0, 0.5],
    ]);
    const d = run(make('mgda', 2, { normalize: 'l2' }), J, ones(2));
    expect(d[0]).toBeCloseTo(0.5, 8);
    expect(d[1]).toBeCloseTo(0.5, 8);
    // Without it the smaller gradient dominates: w ∝ 1/‖g‖², d = (0.5²·3, 3²·0.5)/(3² + 0.5²)·…
    const raw = run(make('mgda', 2), J, ones(2));
    expect(raw[0]! / raw[1]!).toBeCloseTo((0.25 * 3) / (9 * 0.5), 6);
  });

  it('reports MGDA-UB as gradientOf "representation"', () => {
    expect(make('mgda', 2, { gradientOf: 'representation' }).gradientOf).toBe('representation');
    expect(make('mgda', 2).gradientOf).toBe('parameters');
  });
});

describe('PCGrad and UPGrad', () => {
  it('with two tasks PCGrad equals UPGrad with the "sum" preference (torchjd test_equivalence_upgrad_sum_two_rows)', () => {
    fc.assert(
      fc.property(jacobianArb(2, 2), ({ J, losses, seed }) => {
        expectClose(
          run(make('pcgrad', 2), J, losses, seed),
          run(make('upgrad', 2, { preference: 'sum' }), J, losses),
          J,
          1e-9,
        );
      }),
      RUNS,
    );
  });

  it('PCGrad projects a conflicting pair by hand', () => {
    const J = matrix([
      [1, 0],
      [-1, 1],
    ]);
    // g1' = g1 − (⟨g1,g2⟩/‖g2‖²)g2 = (1,0) + ½(−1,1) = (½,½); g2' = g2 + 1·g1 = (0,1).
    expect([...run(make('pcgrad', 2), J, ones(2))]).toEqual([0.5, 1.5]);
  });

  it('UPGrad without conflict is the mean; its default preference is the mean of the projections', () => {
    const J = matrix([
      [1, 2, 0],
      [0, 1, 1],
      [2, 0, 1],
    ]);
    const d = run(make('upgrad', 3), J, ones(3));
    expect(Array.from(d, (x) => Number(x.toFixed(12)))).toEqual(
      [1, 1, 2 / 3].map((x) => Number(x.toFixed(12))),
    );
  });
});

describe('IMTL-G', () => {
  it('weights sum to 1 and the update projects equally on every unit gradient (independent rows)', () => {
    fc.assert(
      fc.property(jacobianArb(2, 4), ({ J, losses }) => {
        const agg = make('imtlG', J.rows);
        const d = run(agg, J, losses);
        const w = agg.lastWeights!()!;
        const G = gramian(J);
        const t = trace(G);
        // Only where G is well conditioned (the pseudo-inverse generalisation holds exactly there).
        const det2 = J.rows === 2 ? (G[0]![0]! * G[1]![1]! - G[0]![1]! ** 2) / (t * t) : 0;
        fc.pre(J.rows === 2 && det2 > 1e-6);
        expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
        const proj = rowsF(J).map((g) => dot(g, d) / norm(g));
        expect(Math.abs(proj[0]! - proj[1]!)).toBeLessThanOrEqual(1e-8 * (Math.abs(proj[0]!) + norm(d)));
      }),
      { ...RUNS, numRuns: 40 },
    );
  });

  it('returns zero for a zero Jacobian', () => {
    expect([
      ...run(
        make('imtlG', 2),
        matrix([
          [0, 0],
          [0, 0],
        ]),
        ones(2),
      ),
    ]).toEqual([0, 0]);
  });
});

describe('ConFIG', () => {
  it('gives every unit gradient the same projection, and the length Σ⟨g_i, x̂⟩ (full row rank)', () => {
    const J = matrix([
      [1, 0, 0],
      [-0.5, 2, 0],
      [0, -1, 3],
    ]);
    const d = run(make('config', 3), J, ones(3));
    const proj = rowsF(J).map((g) => dot(g, d) / norm(g));
    expect(proj[1]).toBeCloseTo(proj[0]!, 10);
    expect(proj[2]).toBeCloseTo(proj[0]!, 10);
    const unit = d.map((x) => x / norm(d));
    expect(norm(d)).toBeCloseTo(
      rowsF(J).reduce((s, g) => s + dot(g, unit), 0),
      10,
    );
  });
});

describe('CAGrad', () => {
  it('with c = 0 is the mean gradient', () => {
    const J = matrix([
      [1, -2],
      [3, 0.5],
    ]);
    expect([...run(make('cagrad', 2, { c: 0 }), J, ones(2))]).toEqual([2, -0.75]);
  });

  it('its dual solver beats every other point of the simplex it is compared with', () => {
    fc.assert(
      fc.property(
        jacobianArb(2, 6),
        fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 6, maxLength: 6 }),
        ({ J }, raw) => {
          const G0 = gramian(J);
          const t = trace(G0);
          fc.pre(t > 0);
          const G = scaled(G0, t);
          const m = J.rows;
          const b = matVec(G, new Float64Array(m).fill(1 / m));
          const k = 0.5 * Math.sqrt(Math.max(0, b.reduce((s, x) => s + x, 0) / m));
          const f = (w: Float64Array) => dot(b, w) + k * Math.sqrt(Math.max(0, dot(w, matVec(G, w))));
          const best = f(cagradDual(G, b, k));
          const sum = raw.slice(0, m).reduce((a, x) => a + x, 0);
          fc.pre(sum > 0);
          const other = Float64Array.from(raw.slice(0, m), (x) => x / sum);
          expect(best).toBeLessThanOrEqual(f(other) + 1e-9);
        },
      ),
      RUNS,
    );
  });

  it('moves the mean towards the worse task and rescales by 1 + c²', () => {
    const J = matrix([
      [1, 0],
      [-0.5, 0.2],
    ]);
    const c = 0.5;
    const d = run(make('cagrad', 2, { c }), J, ones(2));
    const dn = run(make('cagrad', 2, { c, rescale: false }), J, ones(2));
    expect(d[0]! * (1 + c * c)).toBeCloseTo(dn[0]!, 12);
    // The second task conflicts with the mean (0.25, 0.1): CAGrad improves its worst inner product.
    const worst = (x: Float64Array) => Math.min(...rowsF(J).map((g) => dot(g, x)));
    expect(worst(dn)).toBeGreaterThan(worst(Float64Array.from([0.25, 0.1])));
  });
});

describe('Nash-MTL', () => {
  it('solves (Gα)_i = 1/α_i: ⟨g_i, d⟩ = 1/α_i for independent gradients, at any scale', () => {
    for (const s of [1e-10, 1, 1e15]) {
      const J = matrix([
        [2 * s, 0, 0],
        [s, s, 0],
        [0, -s, 0.5 * s],
      ]);
      const agg = make('nashMtl', 3);
      const d = run(agg, J, ones(3));
      const a = agg.lastWeights!()!;
      rowsF(J).forEach((g, i) => {
        expect(dot(g, d) * a[i]!).toBeCloseTo(1, 6);
      });
    }
  });

  it('with orthogonal gradients gives α_i = 1/‖g_i‖ (every task the same improvement)', () => {
    const agg = make('nashMtl', 2);
    run(
      agg,
      matrix([
        [4, 0],
        [0, 0.25],
      ]),
      ones(2),
    );
    const a = agg.lastWeights!()!;
    expect(a[0]).toBeCloseTo(0.25, 6);
    expect(a[1]).toBeCloseTo(4, 6);
  });

  it('updateWeightsEvery reuses the weights in between', () => {
    const agg = make('nashMtl', 2, { updateWeightsEvery: 2 });
    run(
      agg,
      matrix([
        [4, 0],
        [0, 0.25],
      ]),
      ones(2),
    );
    const first = Float64Array.from(agg.lastWeights!()!);
    run(
      agg,
      matrix([
        [1, 0],
        [0, 1],
      ]),
      ones(2),
    );
    expect([...agg.lastWeights!()!]).toEqual([...first]);
    run(
      agg,
      matrix([
        [1, 0],
        [0, 1],
      ]),
      ones(2),
    );
    expect(agg.lastWeights!()![0]).toBeCloseTo(1, 6);
  });
});

describe('Aligned-MTL', () => {
  it('one-hot preferences give orthogonal aligned gradients of norm σ_min (full-rank Gram)', () => {
    const J = matrix([
      [2, 1, 0],
      [0, 1, 1],
      [1, 0, 3],
    ]);
    const G = gramian(J);
    // The aligned system's scale is the smallest eigenvalue of G (scaleMode 'min').
    const lambdaMin = Math.min(...symmetricEigen(G).values);
    const aligned = [0, 1, 2].map((i) =>
      run(make('alignedMtl', 3, { preference: [0, 1, 2].map((k) => (k === i ? 1 : 0)) }), J, ones(3)),
    );
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        expect(dot(aligned[i]!, aligned[j]!)).toBeCloseTo(i === j ? lambdaMin : 0, 8);
      }
    }
  });

  it('orthogonal gradients of equal norm are left as they are: the update is their mean', () => {
    const d = run(
      make('alignedMtl', 2),
      matrix([
        [3, 0],
        [0, 3],
      ]),
      ones(2),
    );
    expect(d[0]).toBeCloseTo(1.5, 10);
    expect(d[1]).toBeCloseTo(1.5, 10);
  });
});

describe('DualProj', () => {
  it('keeps the mean when it conflicts with no task, and projects it when it does', () => {
    const free = run(
      make('dualProj', 2),
      matrix([
        [1, 0],
        [0.5, 1],
      ]),
      ones(2),
    );
    expect([...free]).toEqual([0.75, 0.5]);
    // Mean (0, 0.5) conflicts with neither? ⟨(1,0),(0,.5)⟩ = 0: kept. A conflicting pair:
    const J = matrix([
      [1, 0],
      [-2, 0.1],
    ]);
    const d = run(make('dualProj', 2), J, ones(2));
    rowsF(J).forEach((g) => {
      expect(dot(g, d)).toBeGreaterThanOrEqual(-1e-12);
    });
    // The mean (−0.5, 0.05) projected onto the cone {x₁ ≥ 0, x₂ ≥ 20x₁}: nearest on its edge x₁ = 0.
    expect(d[0]).toBeCloseTo(0, 12);
    expect(d[1]).toBeCloseTo(0.05, 12);
  });
});

describe('GradDrop', () => {
  it('keeps every gradient where all tasks agree in sign, and everything with leak 1', () => {
    const J = matrix([
      [1, -2, 3],
      [2, -1, 0.5],
    ]);
    expect([...run(make('graddrop', 2), J, ones(2), 5)]).toEqual([3, -3, 3.5]);
    const K = matrix([
      [1, -2],
      [-3, 4],
    ]);
    expect([...run(make('graddrop', 2, { leak: 1 }), K, ones(2), 5)]).toEqual([-2, 2]);
  });

  it('on opposed signs keeps one sign per value, drawn from the step seed (same seed, same mask)', () => {
    const K = matrix([
      [1, -2, 5, -1],
      [-3, 4, -5, 1],
    ]);
    const a = run(make('graddrop', 2), K, ones(2), 9);
    expect([...a]).toEqual([...run(make('graddrop', 2), K, ones(2), 9)]);
    for (let k = 0; k < 4; k++) expect([K.data[k], K.data[4 + k]]).toContain(a[k]);
  });
});

describe('GradVac', () => {
  it('on its first step (targets 0) equals PCGrad for two tasks, and moves the targets by beta·cosine', () => {
    const J = matrix([
      [1, 0],
      [-1, 1],
    ]);
    const agg = make('gradvac', 2, { beta: 0.5 });
    expect([...run(agg, J, ones(2))]).toEqual([...run(make('pcgrad', 2), J, ones(2))]);
    const target = agg.getState!().target as number[][];
    expect(target[0]![1]).toBeCloseTo(0.5 * (-1 / Math.SQRT2), 12);
    expect(target[1]![0]).toBeCloseTo(0.5 * (-1 / Math.SQRT2), 12);
  });
});

describe('GradNorm', () => {
  it('starts from weights 1 and moves the weight of the task with the larger weighted gradient down', () => {
    const J = matrix([
      [3, 0],
      [0, 1],
    ]);
    const agg = make('gradnorm', 2, { alpha: 0, lr: 0.1 });
    expect([...run(agg, J, Float64Array.from([1, 1]))]).toEqual([3, 1]);
    run(agg, J, Float64Array.from([1, 1]));
    const w = agg.lastWeights!()!;
    // Step 1: targets = mean(3, 1) = 2; sign = (+, −); Adam's first step moves the logits by ∓lr.
    const e = [Math.exp(-0.1), Math.exp(0.1)];
    expect(w[0]).toBeCloseTo((2 * e[0]!) / (e[0]! + e[1]!), 9);
    expect(w[1]).toBeCloseTo((2 * e[1]!) / (e[0]! + e[1]!), 9);
  });

  it('with alpha > 0 the task whose loss fell least gets the larger target', () => {
    const J = matrix([
      [1, 0],
      [0, 1],
    ]);
    const agg = make('gradnorm', 2, { alpha: 1.5, lr: 0.1 });
    run(agg, J, Float64Array.from([1, 1]));
    run(agg, J, Float64Array.from([0.5, 1])); // task 0 trains faster
    run(agg, J, Float64Array.from([0.5, 1]));
    const w = agg.lastWeights!()!;
    expect(w[1]).toBeGreaterThan(w[0]!);
    expect(w[0]! + w[1]!).toBeCloseTo(2, 12);
  });
});

describe('DB-MTL', () => {
  it('first step: averages (1 − beta)·g/(L + eps), each rescaled to the largest norm', () => {
    const J = matrix([
      [2, 0],
      [0, 1],
    ]);
    const L = Float64Array.from([2, 0.5]);
    const d = run(make('dbMtl', 2, { eps: 1e-8 }), J, L);
    // b₀ = 0.1·(2, 0)/(2 + 1e-8), b₁ = 0.1·(0, 1)/(0.5 + 1e-8); both rescaled to ‖b₁‖ ≈ 0.2.
    const b1 = 0.1 / (0.5 + 1e-8);
    expect(d[0]).toBeCloseTo(b1, 12);
    expect(d[1]).toBeCloseTo(b1, 12);
  });
});
