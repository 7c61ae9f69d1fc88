import { MtlError } from '@mtl/core';

/**
 * A sample shape given as a count (`n`) or a full shape; `[]` draws one sample.
 * @example
 * normal.sample(10, seed);       // [10, ...batch]
 * normal.sample([5, 2], seed);   // [5, 2, ...batch]
 */
export type SampleShape = number | readonly number[];

export function sampleShapeOf(n: SampleShape, place: string): number[] {
  const shape = typeof n === 'number' ? [n] : [...n];
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 1) {
      throw new MtlError('INVALID_ARGUMENT', `sample shape must hold positive integers, got [${shape}]`, {
        place,
      });
    }
  }
  return shape;
}

/** numpy-style broadcast of two shapes; throws SHAPE_MISMATCH naming `place` when they do not broadcast. */
export function broadcastShapes(a: readonly number[], b: readonly number[], place: string): number[] {
  const rank = Math.max(a.length, b.length);
  const out = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new MtlError('SHAPE_MISMATCH', `shapes [${a}] and [${b}] do not broadcast`, { place });
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(i);
  return out;
}
