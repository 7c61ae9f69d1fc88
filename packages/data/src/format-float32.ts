/**
 * The shortest decimal text that reads back as the same float32 (integers as integers).
 * @example
 * formatFloat32(Math.fround(0.1)); // '0.1', not '0.10000000149011612'
 */
export function formatFloat32(v: number): string {
  if (Object.is(v, -0)) return '-0';
  if (Number.isInteger(v)) return String(v);
  const f = Math.fround(v);
  for (let p = 6; p <= 9; p++) {
    const s = f.toPrecision(p);
    if (Math.fround(Number(s)) === f) return String(Number(s));
  }
  return String(f);
}
