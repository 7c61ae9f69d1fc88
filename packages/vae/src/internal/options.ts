import { listNames, MtlError } from '@mtl/core';
import { ACTIVATIONS, type ActivationName, type Initializer } from '@mtl/tasks';

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
  range: { min?: number; max?: number; minExclusive?: boolean } = {},
): number {
  const { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY, minExclusive = false } = range;
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    (minExclusive ? value <= min : value < min) ||
    value > max
  ) {
    const rules = [
      Number.isFinite(min) ? `${minExclusive ? '>' : '>='} ${min}` : '',
      Number.isFinite(max) ? `<= ${max}` : '',
    ].filter((s) => s !== '');
    throw new MtlError(
      'INVALID_ARGUMENT',
      `${option} must be a finite number${rules.length ? ` ${rules.join(' and ')}` : ''}, got ${String(value)}`,
      { place },
    );
  }
  return value;
}

export function checkIntList(value: unknown, option: string, place: string): number[] {
  if (!Array.isArray(value)) {
    throw new MtlError('INVALID_ARGUMENT', `${option} must be a list of layer sizes`, { place });
  }
  return value.map((h, i) => checkInt(h, `${option}[${i}]`, place));
}

export function checkActivation(value: unknown, option: string, place: string): ActivationName {
  if (typeof value !== 'string' || !(ACTIVATIONS as readonly string[]).includes(value)) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `${option} must be one of ${listNames(ACTIVATIONS)}, got ${JSON.stringify(value)}`,
      { place },
    );
  }
  return value as ActivationName;
}

const INIT_NAMES = ['zeros', 'ones', 'glorotUniform', 'heUniform', 'torchUniform'];

export function checkInit(value: unknown, option: string, place: string): Initializer {
  const ok =
    (typeof value === 'string' && INIT_NAMES.includes(value)) ||
    (value !== null &&
      typeof value === 'object' &&
      Object.keys(value).length === 1 &&
      ['uniform', 'normal', 'constant'].includes(Object.keys(value)[0]!) &&
      Number.isFinite(Object.values(value)[0]));
  if (!ok) {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `${option} must be one of ${INIT_NAMES.join(', ')}, {uniform: a}, {normal: s}, {constant: c}; got ${JSON.stringify(value)}`,
      { place },
    );
  }
  return value as Initializer;
}

export function optionalSeed(value: unknown, place: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  return checkNumber(value, 'seed', place);
}

/** Copies only the defined entries, for configs under `exactOptionalPropertyTypes`. */
export function defined<T extends Record<string, unknown>>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}
