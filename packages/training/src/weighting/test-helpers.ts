import fc from 'fast-check';
import type { Aggregator, AggregatorContext, Matrix } from '../aggregator.js';
import { norm } from './linalg.js';
import { createAggregator } from './registry.js';

export const rowNorms = (J: Matrix) => rowsOf(J).map((r) => norm(Float64Array.from(r)));

// Shared by the weighting tests: random Jacobians as torchjd samples them (2-6 tasks, 1-30
// columns, every scale from 0 to 1e15), and the laws of its _asserts.py on plain arrays.

export const SCALES = [0, 1e-10, 1, 1e3, 1e5, 1e10, 1e15] as const;

export const tasksOf = (m: number) => Array.from({ length: m }, (_, i) => `t${i}`);

export function ctxOf(m: number, seed = 11, step = 0): AggregatorContext {
  return { step, epoch: 0, seed, tasks: tasksOf(m) };
}

export function matrix(rows: number[][]): Matrix {
  return { rows: rows.length, cols: rows[0]!.length, data: Float64Array.from(rows.flat()) };
}

export function rowsOf(J: Matrix): number[][] {
  return Array.from({ length: J.rows }, (_, i) => Array.from(J.data.subarray(i * J.cols, (i + 1) * J.cols)));
}

export function scaleRows(J: Matrix, c: ArrayLike<number>): Matrix {
  return { ...J, data: J.data.map((v, k) => v * c[Math.floor(k / J.cols)]!) };
}

export function permuteRows(J: Matrix, perm: readonly number[]): Matrix {
  return matrix(perm.map((p) => rowsOf(J)[p]!));
}

/** A Jacobian with entries in [-1, 1] (three decimals: no subnormal rows), times a scale. */
export const jacobianArb = (minRows = 2, maxRows = 6) =>
  fc
    .record({
      m: fc.integer({ min: minRows, max: maxRows }),
      n: fc.integer({ min: 1, max: 30 }),
      scale: fc.constantFrom(...SCALES),
    })
    .chain(({ m, n, scale }) =>
      fc.record({
        J: fc
          .array(fc.integer({ min: -1000, max: 1000 }), { minLength: m * n, maxLength: m * n })
          .map((v) => ({ rows: m, cols: n, data: Float64Array.from(v, (x) => (x / 1000) * scale) })),
        losses: fc
          .array(fc.integer({ min: 1, max: 10_000 }), { minLength: m, maxLength: m })
          .map((v) => Float64Array.from(v, (x) => x / 1000)),
        scale: fc.constant(scale),
        seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      }),
    );

export function make(method: string, m: number, options: Record<string, unknown> = {}): Aggregator {
  return createAggregator({ method, ...options }, { tasks: tasksOf(m) });
}

export function run(agg: Aggregator, J: Matrix, losses: Float64Array, seed = 11): Float64Array {
  return agg.aggregate!(J, losses, ctxOf(J.rows, seed));
}

export const sumRowNorms = (J: Matrix) => rowNorms(J).reduce((a, b) => a + b, 0);

export function distance(a: Float64Array, b: Float64Array): number {
  return norm(a.map((x, k) => x - b[k]!));
}

/**
 * ‖a − b‖ ≤ rtol·(max(‖a‖, ‖b‖) + Σ‖g_i‖ + Σ|w_i|‖g_i‖): relative to the output, to the input's
 * scale and, when the method reports its weights `w`, to the size of the terms of `Jᵀw` (large
 * weights on opposed gradients cancel, and rounding of the terms is all that is left).
 */
export function expectClose(
  a: Float64Array,
  b: Float64Array,
  J: Matrix,
  rtol: number,
  label = '',
  weights?: Float64Array,
): void {
  const norms = rowNorms(J);
  const terms = weights ? norms.reduce((s, n, i) => s + Math.abs(weights[i]!) * n, 0) : 0;
  const tol = rtol * (Math.max(norm(a), norm(b)) + sumRowNorms(J) + terms);
  const d = distance(a, b);
  if (!(d <= tol)) {
    throw new Error(
      `${label} ‖a − b‖ = ${d} > ${tol}\n a=${[...a]}\n b=${[...b]}\n J=${JSON.stringify(rowsOf(J))}`,
    );
  }
}

/**
 * ⟨g_t, d⟩ ≥ −tol·‖g_t‖·‖d‖ for every task t. An update below 1e-8 of the largest gradient is
 * zero for this law: where the right answer is 0 (opposed gradients, an empty dual cone, a
 * Pareto-stationary point) the solvers return rounding noise of 1e-11..1e-9 relative size.
 */
export function expectNonConflicting(J: Matrix, d: Float64Array, tol: number): void {
  const nd = norm(d);
  if (nd <= 1e-8 * Math.max(...rowNorms(J))) return;
  rowsOf(J).forEach((r, t) => {
    const g = Float64Array.from(r);
    let inner = 0;
    for (let k = 0; k < g.length; k++) inner += g[k]! * d[k]!;
    if (!(inner >= -tol * norm(g) * nd)) {
      throw new Error(
        `task ${t}: ⟨g, d⟩ = ${inner} < −${tol}·${norm(g)}·${nd}; J=${JSON.stringify(rowsOf(J))}`,
      );
    }
  });
}
