import { MtlError } from '@mtl/core';

/**
 * Temperature of the Gumbel-softmax at a training step (0-based). Must return a finite number > 0.
 * @example
 * const tau: TemperatureSchedule = (step) => Math.max(0.5, 1 - step / 1e4);
 */
export type TemperatureSchedule = (step: number) => number;

/**
 * A temperature schedule as data (for configs); every field has a default that runs.
 * @example
 * const spec: TemperatureSpec = { kind: 'exponential', rate: 1e-3, floor: 0.5 };
 */
export type TemperatureSpec =
  | { kind: 'constant'; value?: number }
  | { kind: 'inverseSqrt'; initial?: number; floor?: number }
  | { kind: 'exponential'; initial?: number; rate?: number; floor?: number };

/**
 * Defaults of {@link exponentialTemperature}: the paper code's start at 1 and floor at 0.5; the
 * rate (per step) is ours, as the paper does not give one.
 * @example
 * EXPONENTIAL_TEMPERATURE_DEFAULTS.floor;   // 0.5
 */
export const EXPONENTIAL_TEMPERATURE_DEFAULTS = { initial: 1, rate: 1e-3, floor: 0.5 } as const;

/**
 * τ(step) = value.
 * @example
 * constantTemperature(0.5)(1000);   // 0.5
 */
export function constantTemperature(value = 1): TemperatureSchedule {
  checkPositive(value, 'constantTemperature.value');
  return () => value;
}

/**
 * τ(step) = max(floor, initial / √(step + 1)): the Python reference's schedule, with the step
 * counted from 0 so the first step is well defined.
 * @example
 * inverseSqrtTemperature()(3);   // 0.5
 */
export function inverseSqrtTemperature(
  options: { initial?: number; floor?: number } = {},
): TemperatureSchedule {
  const initial = options.initial ?? 1;
  const floor = options.floor ?? 0.05;
  checkPositive(initial, 'inverseSqrtTemperature.initial');
  checkPositive(floor, 'inverseSqrtTemperature.floor');
  return (step) => Math.max(floor, initial / Math.sqrt(checkStep(step) + 1));
}

/**
 * τ(step) = max(floor, initial · exp(-rate · step)): the paper code's schedule, from 1 down to a
 * floor of 0.5 by default (reached after ln 2 / rate steps, about 700).
 * @example
 * exponentialTemperature()(0);        // 1
 * exponentialTemperature()(10_000);   // 0.5
 */
export function exponentialTemperature(
  options: { initial?: number; rate?: number; floor?: number } = {},
): TemperatureSchedule {
  const { initial, rate, floor } = { ...EXPONENTIAL_TEMPERATURE_DEFAULTS, ...options };
  checkPositive(initial, 'exponentialTemperature.initial');
  checkPositive(floor, 'exponentialTemperature.floor');
  if (!(rate >= 0) || !Number.isFinite(rate)) {
    throw new MtlError('INVALID_ARGUMENT', `rate must be a finite number >= 0, got ${rate}`, {
      place: 'exponentialTemperature.rate',
    });
  }
  return (step) => Math.max(floor, initial * Math.exp(-rate * checkStep(step)));
}

/**
 * Turns a spec, a number (constant) or a function into a schedule whose every value is checked:
 * a schedule that yields a non-positive or non-finite temperature is an error naming the step.
 * The default (no argument) is the paper code's exponential decay to 0.5.
 * @example
 * const tau = temperatureSchedule({ kind: 'inverseSqrt' });
 * tau(0);   // 1
 */
export function temperatureSchedule(
  spec?: TemperatureSpec | TemperatureSchedule | number,
): TemperatureSchedule {
  let inner: TemperatureSchedule;
  if (spec === undefined) inner = exponentialTemperature();
  else if (typeof spec === 'number') inner = constantTemperature(spec);
  else if (typeof spec === 'function') inner = spec;
  else if (spec.kind === 'constant') inner = constantTemperature(spec.value);
  else if (spec.kind === 'inverseSqrt') inner = inverseSqrtTemperature(definedOnly(spec));
  else if (spec.kind === 'exponential') inner = exponentialTemperature(definedOnly(spec));
  else {
    throw new MtlError(
      'CONFIG_INVALID',
      `unknown temperature schedule kind "${(spec as { kind: unknown }).kind}"`,
      {
        place: 'temperature.kind',
        details: { known: ['constant', 'inverseSqrt', 'exponential'] },
      },
    );
  }
  return (step) => {
    const tau = inner(step);
    if (!(tau > 0) || !Number.isFinite(tau)) {
      throw new MtlError(
        'INVALID_ARGUMENT',
        `temperature schedule gave ${tau} at step ${step}; it must be > 0`,
        {
          place: 'temperature',
        },
      );
    }
    return tau;
  };
}

function definedOnly<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}

function checkPositive(v: number, place: string): void {
  if (!(v > 0) || !Number.isFinite(v)) {
    throw new MtlError('INVALID_ARGUMENT', `must be a finite number > 0, got ${v}`, { place });
  }
}

function checkStep(step: number): number {
  if (!(step >= 0) || !Number.isFinite(step)) {
    throw new MtlError('INVALID_ARGUMENT', `step must be a finite number >= 0, got ${step}`, {
      place: 'temperature',
    });
  }
  return step;
}
