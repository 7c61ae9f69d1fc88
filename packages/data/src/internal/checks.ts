import { MtlError, RandomStream } from '@mtl/core';

export function checkPositiveInt(value: unknown, what: string, place: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new MtlError('INVALID_ARGUMENT', `${what} must be a positive integer, got ${String(value)}`, {
      place,
    });
  }
  return value;
}

export function checkEpoch(epoch: unknown, place: string): number {
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0) {
    throw new MtlError('INVALID_ARGUMENT', `epoch must be a non-negative integer, got ${String(epoch)}`, {
      place,
    });
  }
  return epoch;
}

export function checkSeed(seed: unknown, place: string): number | string {
  if ((typeof seed === 'number' && Number.isFinite(seed)) || typeof seed === 'string') return seed;
  throw new MtlError('INVALID_ARGUMENT', `seed must be a finite number or a string, got ${String(seed)}`, {
    place,
  });
}

/** A stream that depends only on `seed` and `key` (never on how much was drawn before). */
export function keyedStream(seed: number | string, key: string): RandomStream {
  return new RandomStream(seed).child(key);
}
