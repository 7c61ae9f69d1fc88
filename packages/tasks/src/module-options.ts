import { MtlError } from '@mtl/core';
import { type Initializer, isInitializer } from './internal/init.js';

// Checks of builder options and saved configs, for the built-in modules and for anyone writing a
// module: a bad value fails at construction with the module kind and option named, rather than
// deep inside a tfjs op.

/**
 * An integer option of at least `min` (default 1).
 * @example
 * this.units = checkInt(options.units, 'units', 'dense "head"');
 */
export function checkInt(value: unknown, option: string, place: string, min = 1): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new MtlError('INVALID_ARGUMENT', `${option} must be an integer >= ${min}, got ${String(value)}`, {
      place,
    });
  }
  return value;
}

/**
 * A finite number option within a range; either end may be exclusive.
 * @example
 * this.rate = checkNumber(options.rate, 'rate', place, { min: 0, max: 1, maxExclusive: true });
 */
export function checkNumber(
  value: unknown,
  option: string,
  place: string,
  range: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean } = {},
): number {
  const {
    min = Number.NEGATIVE_INFINITY,
    max = Number.POSITIVE_INFINITY,
    minExclusive = false,
    maxExclusive = false,
  } = range;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (minExclusive ? value <= min : value < min) ||
    (maxExclusive ? value >= max : value > max)
  ) {
    const rules = [
      Number.isFinite(min) ? `${minExclusive ? '>' : '>='} ${min}` : '',
      Number.isFinite(max) ? `${maxExclusive ? '<' : '<='} ${max}` : '',
    ].filter((s) => s !== '');
    throw new MtlError(
      'INVALID_ARGUMENT',
      `${option} must be a finite number${rules.length ? ` ${rules.join(' and ')}` : ''}, got ${String(value)}`,
      { place },
    );
  }
  return value;
}

/**
 * A list of layer sizes (integers >= 1).
 * @example
 * this.hidden = checkIntList(options.hidden, 'hidden', place);
 */
export function checkIntList(value: unknown, option: string, place: string): number[] {
  if (!Array.isArray(value)) {
    throw new MtlError('INVALID_ARGUMENT', `${option} must be a list of layer sizes`, { place });
  }
  return value.map((h, i) => checkInt(h, `${option}[${i}]`, place));
}

/**
 * An {@link Initializer}.
 * @example
 * this.kernelInit = checkInit(options.kernelInit ?? 'glorotUniform', 'kernelInit', place);
 */
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

/**
 * An optional seed (a finite number), or undefined.
 * @example
 * this.seed = optionalSeed(options.seed, place);
 */
export function optionalSeed(value: unknown, place: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  return checkNumber(value, 'seed', place);
}

/**
 * Copies only the defined entries, for configs under `exactOptionalPropertyTypes`.
 * @example
 * getConfig() { return defined({ type: 'dense', units: this.units, seed: this.seed }); }
 */
export function defined<T extends Record<string, unknown>>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}
