import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  expectClose,
  expectNonConflicting,
  jacobianArb,
  make,
  permuteRows,
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
