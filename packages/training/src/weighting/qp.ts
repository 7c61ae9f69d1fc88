import { MtlError } from '@mtl/core';
import { solveQP } from 'quadprog';
import { matVec, pinvPsd, scaled, trace } from './linalg.js';

// The quadratic programs of MGDA, UPGrad and DualProj. MGDA's min-norm point is solved with
// `quadprog` (Goldfarb-Idnani dual active set, a faithful port of R's quadprog, the solver torchjd
// uses through qpsolvers): exact, and pure JavaScript with no Node built-ins, so the package still
// bundles for a browser. Its Cholesky step needs a positive-definite matrix, so the Gram matrix is
// divided by its trace (the answer is scale-free: 1e-10 and 1e15 alike) and `regEps` is added to
// the diagonal. The dual-cone projection of UPGrad and DualProj is solved by hand, see below why.

function qpMatrix(G: readonly Float64Array[], regEps: number): number[][] | undefined {
  const t = trace(G);
  if (!(t > 0) || !Number.isFinite(t)) return undefined;
  const m = G.length;
  const D: number[][] = [[]];
  for (let i = 0; i < m; i++) {
    const r: number[] = [0];
    for (let j = 0; j < m; j++) r.push(G[i]![j]! / t + (i === j ? regEps : 0));
    D.push(r);
  }
  return D;
}

/**
 * Weights `v` of the projection of `Jᵀu` onto the dual cone `{x : Jx ≥ 0}` of the rows of `J`,
 * given `G = JJᵀ`: `argmin vᵀGv subject to v ≥ u` (Jacobian descent, Quinton & Rey 2024,
 * Proposition 1), so that the projection is `Jᵀv`.
 *
 * Not quadprog, for a measured reason: G is singular whenever the rows are dependent (more tasks
 * than values, opposed gradients). torchjd adds 1e-4 to its diagonal so that quadprog's Cholesky
 * succeeds; with 1e-10 the answers here still conflicted by 2% on the law tests, and posed in the
 * row space of J (identity Hessian) quadprog gave up with "constraints are inconsistent" on nearly
 * opposed gradients. So this is Lawson & Hanson's active-set NNLS (1974, ch. 23) on the dual
 * variables `μ = (v − u)·‖g‖ ≥ 0` of the unit-normalised rows: each face is solved with a
 * pseudo-inverse, which a singular G does not disturb, and it stops only when every task's
 * `⟨g_i, Jᵀv⟩` is ≥ 0 (to 1e-12 relative), which is the law. The Gram matrix is divided by its
 * trace first (the weights are scale-free). A zero G returns `u` itself.
 */
export function projectWeights(u: Float64Array, G: readonly Float64Array[]): Float64Array {
  const m = u.length;
  const t = trace(G);
  if (!(t > 0) || !Number.isFinite(t)) return Float64Array.from(u);
  const Gn = scaled(G, t);
  const inv = Gn.map((r, i) => (r[i]! > 0 ? 1 / Math.sqrt(r[i]!) : 0));
  // q(μ) = ½μᵀHμ + bᵀμ with H = NĜN (unit diagonal), b = NĜu, N = diag(1/‖g_i‖); ∇q = N·J(Jᵀv).
  const H = Gn.map((r, i) => r.map((x, j) => x * inv[i]! * inv[j]!));
  const b = matVec(Gn, u).map((x, i) => x * inv[i]!);
  const free = [...Array(m).keys()].filter((i) => inv[i]! > 0);
  let mu = new Float64Array(m);
  const passive = new Set<number>();
  const tol = 1e-12;
  for (let outer = 0; outer < 20 * m + 20; outer++) {
    const g = matVec(H, mu).map((x, i) => x + b[i]!);
    let j = -1;
    for (const i of free) if (!passive.has(i) && g[i]! < -tol && (j < 0 || g[i]! < g[j]!)) j = i;
    if (j < 0) break;
    passive.add(j);
    for (let inner = 0; inner < 20 * m + 20 && passive.size > 0; inner++) {
      const P = [...passive].sort((x, y) => x - y);
      const HP = P.map((i) => Float64Array.from(P, (k) => H[i]![k]!));
      const sP = matVec(
        pinvPsd(HP),
        Float64Array.from(P, (i) => -b[i]!),
      );
      if (sP.every((x) => x > 0)) {
        mu = new Float64Array(m);
        P.forEach((i, k) => {
          mu[i] = sP[k]!;
        });
        break;
      }
      // Step from μ towards s until the first passive variable reaches 0; it leaves the set.
      let alpha = 1;
      P.forEach((i, k) => {
        if (sP[k]! <= 0) alpha = Math.min(alpha, mu[i]! / (mu[i]! - sP[k]!));
      });
      P.forEach((i, k) => {
        mu[i] = mu[i]! + alpha * (sP[k]! - mu[i]!);
        if (mu[i]! <= 1e-15) {
          mu[i] = 0;
          passive.delete(i);
        }
      });
    }
  }
  return u.map((x, i) => x + mu[i]! * inv[i]!);
}

/**
 * MGDA's weights: the point of the simplex whose combination of the rows has the least norm,
 * `argmin wᵀGw subject to w ≥ 0, Σw = 1`. A zero `G` returns uniform weights.
 */
export function minNormSimplex(G: readonly Float64Array[], regEps: number): Float64Array {
  const m = G.length;
  const D = qpMatrix(G, regEps);
  if (D === undefined) return new Float64Array(m).fill(1 / m);
  const dvec = new Array<number>(m + 1).fill(0);
  // Column 1: the equality Σw = 1; columns 2..m+1: w_i ≥ 0.
  const A: number[][] = [[]];
  for (let i = 0; i < m; i++) {
    const r: number[] = [0, 1];
    for (let j = 0; j < m; j++) r.push(i === j ? 1 : 0);
    A.push(r);
  }
  const result = solveQP(D, dvec, A, [0, 1, ...new Array<number>(m).fill(0)], 1);
  const w = Float64Array.from({ length: m }, (_, i) => result.solution?.[i + 1] ?? Number.NaN);
  if (result.message || !w.every(Number.isFinite)) {
    throw new MtlError(
      'INTERNAL',
      `quadprog failed on the min-norm point: ${result.message || 'non-finite solution'}`,
      {
        place: 'weighting mgda',
      },
    );
  }
  // Active bounds come back as -1e-17 and the like: clip to the simplex the method promises.
  for (let i = 0; i < m; i++) w[i] = Math.max(0, w[i]!);
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
}
