import type { Matrix } from '../aggregator.js';

// Small dense linear algebra on float64, enough for the aggregators: m (tasks) is small (2..~20),
// n (shared values) may be millions, so everything that touches n is one pass per row pair.

/** Row `i` of `J` as a view (no copy). */
export function row(J: Matrix, i: number): Float64Array {
  return J.data.subarray(i * J.cols, (i + 1) * J.cols);
}

export function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let k = 0; k < a.length; k++) s += a[k]! * b[k]!;
  return s;
}

/** Euclidean norm, scaled so that entries near 1e300 or 1e-300 neither overflow nor underflow. */
export function norm(a: Float64Array): number {
  let scale = 0;
  for (let k = 0; k < a.length; k++) scale = Math.max(scale, Math.abs(a[k]!));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = 0;
  for (let k = 0; k < a.length; k++) {
    const v = a[k]! / scale;
    s += v * v;
  }
  return scale * Math.sqrt(s);
}

/** `out += alpha · x`. */
export function axpy(out: Float64Array, alpha: number, x: Float64Array): void {
  if (alpha === 0) return;
  for (let k = 0; k < out.length; k++) out[k]! += alpha * x[k]!;
}

/** `Jᵀ w`: the combination of the rows with weights `w`. */
export function combineRows(J: Matrix, w: ArrayLike<number>): Float64Array {
  const out = new Float64Array(J.cols);
  for (let i = 0; i < J.rows; i++) axpy(out, w[i]!, row(J, i));
  return out;
}

/** The Gram matrix `J Jᵀ` (m×m, row-major), `G[i][j] = ⟨g_i, g_j⟩`. */
export function gramian(J: Matrix): Float64Array[] {
  const m = J.rows;
  const G = Array.from({ length: m }, () => new Float64Array(m));
  for (let i = 0; i < m; i++) {
    const gi = row(J, i);
    for (let j = i; j < m; j++) {
      const v = dot(gi, row(J, j));
      G[i]![j] = v;
      G[j]![i] = v;
    }
  }
  return G;
}

export function trace(G: readonly Float64Array[]): number {
  let t = 0;
  for (let i = 0; i < G.length; i++) t += G[i]![i]!;
  return t;
}

/** `G / s` as a new matrix. */
export function scaled(G: readonly Float64Array[], s: number): Float64Array[] {
  return G.map((r) => r.map((v) => v / s));
}

export function matVec(G: readonly Float64Array[], v: ArrayLike<number>): Float64Array {
  const out = new Float64Array(G.length);
  for (let i = 0; i < G.length; i++) {
    let s = 0;
    for (let j = 0; j < G.length; j++) s += G[i]![j]! * v[j]!;
    out[i] = s;
  }
  return out;
}

/**
 * Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: exact to rounding for the
 * small Gram matrices here and free of a dependency (no well-kept pure-JS symmetric eigensolver
 * that handles rank-deficient input is smaller than these 40 lines). Eigenvalues ascending;
 * `vectors[k]` is the unit eigenvector of `values[k]`.
 */
export function symmetricEigen(A: readonly Float64Array[]): {
  values: Float64Array;
  vectors: Float64Array[];
} {
  const m = A.length;
  const a = A.map((r) => Float64Array.from(r));
  const v = Array.from({ length: m }, (_, i) => {
    const r = new Float64Array(m);
    r[i] = 1;
    return r;
  });
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    let diag = 0;
    for (let i = 0; i < m; i++) {
      diag += a[i]![i]! * a[i]![i]!;
      for (let j = i + 1; j < m; j++) off += a[i]![j]! * a[i]![j]!;
    }
    if (off <= 1e-30 * diag || off === 0) break;
    for (let p = 0; p < m; p++) {
      for (let q = p + 1; q < m; q++) {
        const apq = a[p]![q]!;
        if (apq === 0) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < m; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < m; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        // v's columns are the eigenvectors: rotate columns p and q.
        for (let k = 0; k < m; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: m }, (_, i) => i).sort((i, j) => a[i]![i]! - a[j]![j]!);
  return {
    values: Float64Array.from(order, (i) => a[i]![i]!),
    vectors: order.map((i) => Float64Array.from({ length: m }, (_, k) => v[k]![i]!)),
  };
}

/**
 * Moore-Penrose pseudo-inverse of a symmetric positive semi-definite matrix; eigenvalues below
 * `max · m · 2⁻⁵²` count as zero (numpy's and torch's default cut-off).
 */
export function pinvPsd(G: readonly Float64Array[]): Float64Array[] {
  const m = G.length;
  const { values, vectors } = symmetricEigen(G);
  const max = Math.max(0, ...values);
  const cut = max * m * Number.EPSILON;
  const out = Array.from({ length: m }, () => new Float64Array(m));
  for (let k = 0; k < m; k++) {
    const lambda = values[k]!;
    if (!(lambda > cut)) continue;
    const u = vectors[k]!;
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) out[i]![j]! += (u[i]! * u[j]!) / lambda;
  }
  return out;
}

/** Euclidean projection onto the probability simplex (sort-based, Held et al. / Duchi et al.). */
export function projectSimplex(y: Float64Array): Float64Array {
  const u = Float64Array.from(y).sort().reverse();
  let cumulative = 0;
  let tau = 0;
  for (let k = 0; k < u.length; k++) {
    cumulative += u[k]!;
    const t = (cumulative - 1) / (k + 1);
    if (u[k]! - t > 0) tau = t;
  }
  return y.map((v) => Math.max(v - tau, 0));
}

/** Largest absolute entry of a Jacobian: 0 means every task's gradient is zero. */
export function maxAbs(J: Matrix): number {
  let s = 0;
  for (let k = 0; k < J.data.length; k++) s = Math.max(s, Math.abs(J.data[k]!));
  return s;
}

/** Solves `A x = b` for a symmetric positive-definite `A` (Cholesky); `undefined` if `A` is not. */
export function solveSpd(A: readonly Float64Array[], b: ArrayLike<number>): Float64Array | undefined {
  const m = A.length;
  const L = Array.from({ length: m }, () => new Float64Array(m));
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i]![j]!;
      for (let k = 0; k < j; k++) s -= L[i]![k]! * L[j]![k]!;
      if (i === j) {
        if (!(s > 0)) return undefined;
        L[i]![i] = Math.sqrt(s);
      } else {
        L[i]![j] = s / L[j]![j]!;
      }
    }
  }
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= L[i]![k]! * y[k]!;
    y[i] = s / L[i]![i]!;
  }
  const x = new Float64Array(m);
  for (let i = m - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < m; k++) s -= L[k]![i]! * x[k]!;
    x[i] = s / L[i]![i]!;
  }
  return x;
}
