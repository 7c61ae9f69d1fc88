import { MtlError } from '@mtl/core';
import { type Initializer, isInitializer } from './init.js';

/**
 * Checks of builder options and saved configs, so that a bad value fails at construction with the
 * module kind and option named rather than deep inside a tfjs op.
 */
export function checkInt(value: unknown, option: string, place: string, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new MtlError('INVALID_ARGUMENT', `${option} must be an integer >= ${min}, got ${String(value)}`, {
      place,
    });
  }
  return value;
}

export function checkNumber(
  value: unknown,
  option: string,
  place: string,
  range: { min?: number; max?: number; maxExclusive?: boolean } = {},
): number {
  const { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY, maxExclusive = false } = range;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    (maxExclusive ? value >= max : value > max)
  ) {
    const bound = `${Number.isFinite(min) ? `>= ${min}` : ''}${Number.isFinite(max) ? ` and ${maxExclusive ? '<' : '<='} ${max}` : ''}`;
    throw new MtlError(
      'INVALID_ARGUMENT',
      `${option} must be a finite number${bound ? ` ${bound.trim()}` : ''}, got ${String(value)}`,
      { place },
    );
  }
  return value;
}

export function checkInit(value: unknown, option: string, place: string): Initializer {
  if (!isInitializer(value)) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `${option} must be one of zeros, ones, glorotUniform, heUniform, torchUniform, {uniform: a}, {normal: s}, {constant: c}; got ${JSON.stringify(value)}`,
      { place },
    );
  }
  return value;
}

export function optionalSeed(value: unknown, place: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  return checkNumber(value, 'seed', place);
}

/** Copies only the defined entries, for configs under `exactOptionalPropertyTypes`. */
export function defined<T extends Record<string, unknown>>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}
