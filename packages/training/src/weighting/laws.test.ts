import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { norm } from './linalg.js';
import {
  expectClose,
  expectNonConflicting,
  jacobianArb,
  make,
  matrix,
  permuteRows,
  rowNorms,
  run,
  scaleRows,
  tasksOf,
} from './test-helpers.js';

// torchjd's laws (tests/unit/aggregation/_asserts.py) for every gradient-level method, over
// random Jacobians at every scale. Each row says which laws the method promises; a law it does
// not promise is not asserted (and the comment says why it fails).
interface Laws {
  /** ⟨g_t, update⟩ ≥ 0 for every task (up to the solver's tolerance). */
  nonConflicting?: number;
  /** Permuting the tasks leaves the update unchanged. */
  permutationInvariant?: number;
  /** A(diag(αc₁ + βc₂)J) = αA(diag(c₁)J) + βA(diag(c₂)J) for positive c, α, β. */
  linearUnderScaling?: number;
}

const LAWS: Record<string, Laws> = {
  // Min-norm point: ⟨g_t, d⟩ ≥ ‖d‖² ≥ 0. Not linear: the hull's min-norm point moves with scale.
  mgda: { nonConflicting: 1e-6, permutationInvariant: 1e-7 },
  // Random projection order (seeded): not permutation invariant for 3+ tasks; may still conflict.
  // Each projected row scales with its own task only, so it is linear under scaling.
  pcgrad: { linearUnderScaling: 1e-9 },
  // Random sign masks drawn per value: no law.
  graddrop: {},
  // Seeded order and state; with fresh state each projected row scales with its own task only.
  gradvac: { linearUnderScaling: 1e-9 },
  imtlG: { permutationInvariant: 1e-6 },
  // Its dual is solved iteratively and is not smooth where g_w = 0 (a zero gradient, 0 in the
  // hull): permuted tasks can stop at a different, equally good w. Tested on closed forms instead.
  cagrad: {},
  nashMtl: { permutationInvariant: 1e-6 },
  alignedMtl: { permutationInvariant: 1e-6 },
  // Projection onto the dual cone; not linear (the projected mean depends on all scales at once).
  dualProj: { nonConflicting: 1e-6, permutationInvariant: 1e-6 },
  upgrad: { nonConflicting: 1e-6, permutationInvariant: 1e-6, linearUnderScaling: 1e-4 },
  // Unit gradients fix the direction; the length Σ⟨g_i, x̂⟩ is linear in the scales.
  config: { permutationInvariant: 1e-6, linearUnderScaling: 1e-4 },
  // Weights start at 1 and evolve equivariantly; not linear (the weights react to the norms).
  gradnorm: { permutationInvariant: 1e-9 },
  dbMtl: { permutationInvariant: 1e-9 },
};

// A fixed fast-check seed: the same cases on every run and machine (change it to explore).
const RUNS = { numRuns: Number(process.env.FC_RUNS ?? 60), seed: Number(process.env.FC_SEED ?? 20261129) };

describe.each(Object.entries(LAWS))('%s', (method, laws) => {
  it("returns a finite vector of the Jacobian's width at every scale (0, 1e-10 … 1e15), two steps running", () => {
    fc.assert(
      fc.property(jacobianArb(), ({ J, losses, seed }) => {
        const agg = make(method, J.rows);
        for (let step = 0; step < 2; step++) {
          const d = agg.aggregate!(J, losses, { step, epoch: 0, seed: seed + step, tasks: tasksOf(J.rows) });
          expect(d).toBeInstanceOf(Float64Array);
          expect(d.length).toBe(J.cols);
          expect(d.every(Number.isFinite)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  if (laws.nonConflicting !== undefined) {
    const tol = laws.nonConflicting;
    it(`is non-conflicting: ⟨g_t, update⟩ ≥ −${tol}·‖g_t‖‖update‖ for every task`, () => {
      fc.assert(
        fc.property(jacobianArb(), ({ J, losses, seed }) => {
          expectNonConflicting(J, run(make(method, J.rows), J, losses, seed), tol);
        }),
        RUNS,
      );
    });
  }

  if (laws.permutationInvariant !== undefined) {
    const tol = laws.permutationInvariant;
    it('is permutation invariant: permuting the tasks (rows and losses) gives the same update', () => {
      fc.assert(
        fc.property(
          jacobianArb().chain((x) =>
            fc.record({
              x: fc.constant(x),
              perm: fc.shuffledSubarray([...Array(x.J.rows).keys()], { minLength: x.J.rows }),
            }),
          ),
          ({ x: { J, losses, seed }, perm }) => {
            const a = make(method, J.rows);
            const b = make(method, J.rows);
            const P = permuteRows(J, perm);
            const pl = Float64Array.from(perm, (p) => losses[p]!);
            // Two steps, so stateful methods are compared after their state has moved too.
            for (let step = 0; step < 2; step++) {
              const ctx = { step, epoch: 0, seed, tasks: tasksOf(J.rows) };
              const da = a.aggregate!(J, losses, ctx);
              expectClose(da, b.aggregate!(P, pl, ctx), J, tol, `step ${step}`, a.lastWeights?.());
            }
          },
        ),
        RUNS,
      );
    });
  }

  if (laws.linearUnderScaling !== undefined) {
    const tol = laws.linearUnderScaling;
    it('is linear under scaling of the tasks', () => {
      const positive = fc.integer({ min: 1, max: 1000 }).map((x) => x / 1000);
      fc.assert(
        fc.property(
          jacobianArb().chain((x) =>
            fc.record({
              x: fc.constant(x),
              c1: fc.array(positive, { minLength: x.J.rows, maxLength: x.J.rows }),
              c2: fc.array(positive, { minLength: x.J.rows, maxLength: x.J.rows }),
              alpha: positive,
              beta: positive,
            }),
          ),
          ({ x: { J, losses, seed }, c1, c2, alpha, beta }) => {
            const at = (c: number[]) => run(make(method, J.rows), scaleRows(J, c), losses, seed);
            const mixed = at(c1.map((v, i) => alpha * v + beta * c2[i]!));
            const x1 = at(c1);
            const x2 = at(c2);
            expectClose(
              mixed,
              x1.map((v, k) => alpha * v + beta * x2[k]!),
              J,
              tol,
            );
          },
        ),
        RUNS,
      );
    });
  }
});

describe('gradient-level methods whose laws are promised hold them only when promised', () => {
  // A law test must be able to fail: the methods that do not promise a law break it on a
  // small, fixed example (so the table above is not vacuous).
  const J = { rows: 3, cols: 2, data: Float64Array.from([1, 0, -0.9, 0.3, 0.2, -1]) };
  const losses = Float64Array.from([1, 2, 3]);
  const conflicts = (method: string) => {
    const d = run(make(method, 3), J, losses);
    return [0, 1, 2].some((t) => J.data[2 * t]! * d[0]! + J.data[2 * t + 1]! * d[1]! < -1e-9);
  };
  it('the mean-like methods conflict on a conflicting Jacobian, the dual-cone ones do not', () => {
    expect(conflicts('upgrad')).toBe(false);
    expect(conflicts('dualProj')).toBe(false);
    expect(conflicts('mgda')).toBe(false);
    expect(conflicts('gradnorm')).toBe(true); // weights 1 on the first step: the plain sum
    expect(conflicts('alignedMtl')).toBe(true);
  });
});

describe('strong stationarity (torchjd assert_strongly_stationary)', () => {
  // J = [g; −c·g; h₁ … h_k] with every ⟨h_j, u⟩ > 0 for a unit u ⟂ g: 0 is in the convex hull
  // (weakly stationary) but no positive combination of the rows vanishes (not strongly
  // stationary), so a strongly stationary method must not return 0. For UPGrad and DualProj the
  // bound is exact: ⟨update, u⟩ ≥ (1/m)·Σ⟨h_j, u⟩, since u is in the dual cone and projecting onto
  // a cone never lowers the inner product with its members (Moreau).
  const nonStrong = fc
    .record({
      n: fc.integer({ min: 2, max: 12 }),
      k: fc.integer({ min: 1, max: 4 }),
      c: fc.integer({ min: 1, max: 1000 }).map((x) => x / 100),
      scale: fc.constantFrom(1e-10, 1, 1e5, 1e15),
    })
    .chain(({ n, k, c, scale }) =>
      fc.record({
        g: fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: n, maxLength: n }),
        u: fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: n, maxLength: n }),
        h: fc.array(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: n + 1, maxLength: n + 1 }), {
          minLength: k,
          maxLength: k,
        }),
        c: fc.constant(c),
        scale: fc.constant(scale),
      }),
    )
    .map(({ g, u, h, c, scale }) => {
      const gv = g.map((x) => x / 1000);
      const gg = gv.reduce((s, x) => s + x * x, 0);
      // u ⟂ g, unit (skip degenerate draws below).
      const uv = u.map((x) => x / 1000);
      const gu = gg > 0 ? gv.reduce((s, x, i) => s + x * uv[i]!, 0) / gg : 0;
      const uo = uv.map((x, i) => x - gu * gv[i]!);
      const un = Math.sqrt(uo.reduce((s, x) => s + x * x, 0));
      const unit = uo.map((x) => x / (un || 1));
      const hs = h.map((r) => {
        const base = r.slice(0, -1).map((x) => x / 1000);
        const along = base.reduce((s, x, i) => s + x * unit[i]!, 0);
        const lift = Math.abs(along) + 0.01 + Math.abs(r.at(-1)!) / 1000;
        return base.map((x, i) => x + (lift - along) * unit[i]!);
      });
      const rows = [gv, gv.map((x) => -c * x), ...hs].map((r) => r.map((x) => x * scale));
      return {
        rows,
        unit,
        ok: gg > 1e-6 && un > 1e-3,
        bound: hs.reduce((s, r) => s + r.reduce((a, x, i) => a + x * unit[i]!, 0), 0) * scale,
      };
    });

  it.each(['upgrad', 'dualProj'])(
    '%s: ⟨update, u⟩ ≥ (1/m)·Σ⟨h_j, u⟩ > 0 on weakly but not strongly stationary J',
    (method) => {
      fc.assert(
        fc.property(nonStrong, ({ rows, unit, ok, bound }) => {
          fc.pre(ok);
          const J = matrix(rows);
          const d = run(make(method, J.rows), J, new Float64Array(J.rows).fill(1));
          const along = d.reduce((s, x, i) => s + x * unit[i]!, 0);
          expect(along).toBeGreaterThan(0);
          expect(along).toBeGreaterThanOrEqual((1 - 1e-6) * (bound / J.rows));
        }),
        { numRuns: 80, seed: RUNS.seed },
      );
    },
  );

  it('MGDA does not promise it: it returns (numerically) 0 on the same matrices', () => {
    fc.assert(
      fc.property(nonStrong, ({ rows, ok }) => {
        fc.pre(ok);
        const J = matrix(rows);
        const d = run(make('mgda', J.rows), J, new Float64Array(J.rows).fill(1));
        expect(norm(d)).toBeLessThanOrEqual(1e-4 * Math.max(...rowNorms(J)));
      }),
      { numRuns: 40, seed: RUNS.seed },
    );
  });
});
