/** Exactly constant? (Checked on the values, not on a variance that rounding can leave at 1e-33.) */
export function isConstant(x: ArrayLike<number>): boolean {
  for (let i = 1; i < x.length; i++) if (x[i] !== x[0]) return false;
  return true;
}

/**
 * Pearson correlation of two equal-length samples with centred two-pass sums (stable for large
 * offsets), clamped to [-1, 1] against rounding. NaN when either sample is constant.
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (isConstant(x) || isConstant(y)) return Number.NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  // Distinct values can still have sums of squares that underflow to 0 (5e-324 and 0).
  const denom = Math.sqrt(sxx) * Math.sqrt(syy);
  if (denom === 0) return Number.NaN;
  return Math.max(-1, Math.min(1, sxy / denom));
}
