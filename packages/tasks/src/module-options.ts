import { listNames, MtlError } from '@mtl/core';
import { z } from 'zod';
import { INITIALIZER_NAMES, type Initializer, isInitializer } from './internal/init.js';

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

// ---- zod option schemas ----------------------------------------------------------------------
// Each module kind declares its options as one zod object built from these pieces; the
// constructor, `fromConfig` and the app's config all parse with it. The messages keep the wording
// of the checks above, and parseModuleOptions puts the option's path in front.

/** The largest layer size, vocabulary or width a module option takes (the app's size cap). */
export const MAX_MODULE_SIZE = 1_000_000;

const shown = (value: unknown): string =>
  typeof value === 'string' || (typeof value === 'object' && value !== null)
    ? JSON.stringify(value)
    : String(value);

/**
 * A zod integer option of at least `min` (default 1) and at most `max` (default {@link MAX_MODULE_SIZE}).
 * @example
 * const schema = z.strictObject({ units: intOption() });
 */
export function intOption(min = 1, max = MAX_MODULE_SIZE) {
  const error = (issue: { input?: unknown }) => `must be an integer >= ${min}, got ${shown(issue.input)}`;
  const base = z.number({ error }).int({ error });
  return (min === 1 ? base.positive({ error }) : base.min(min, { error })).max(max, {
    error: (issue) => `must be an integer <= ${max}, got ${shown(issue.input)}`,
  });
}

/**
 * A zod finite-number option within a range; either end may be exclusive.
 * @example
 * const rate = numberOption({ min: 0, max: 1, maxExclusive: true });
 */
export function numberOption(
  range: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean } = {},
) {
  const { min, max, minExclusive = false, maxExclusive = false } = range;
  const rules = [
    min === undefined ? '' : `${minExclusive ? '>' : '>='} ${min}`,
    max === undefined ? '' : `${maxExclusive ? '<' : '<='} ${max}`,
  ].filter((s) => s !== '');
  const error = (issue: { input?: unknown }) =>
    `must be a finite number${rules.length ? ` ${rules.join(' and ')}` : ''}, got ${shown(issue.input)}`;
  let schema = z.number({ error }).finite({ error });
  if (min !== undefined) schema = minExclusive ? schema.gt(min, { error }) : schema.min(min, { error });
  if (max !== undefined) schema = maxExclusive ? schema.lt(max, { error }) : schema.max(max, { error });
  return schema;
}

/**
 * A zod list of layer sizes (integers >= 1).
 * @example
 * const schema = z.strictObject({ hidden: intListOption() });
 */
export function intListOption() {
  return z.array(intOption(), { error: 'must be a list of layer sizes' });
}

/**
 * A zod {@link Initializer} option.
 * @example
 * const schema = z.strictObject({ kernelInit: initOption().optional() });
 */
export function initOption() {
  const error = (issue: { input?: unknown }) =>
    `must be one of zeros, ones, glorotUniform, heUniform, torchUniform, {uniform: a}, {normal: s}, {constant: c}; got ${JSON.stringify(issue.input)}`;
  return z.union(
    [
      z.enum(INITIALIZER_NAMES),
      z.strictObject({ uniform: z.number().positive().finite() }),
      z.strictObject({ normal: z.number().positive().finite() }),
      z.strictObject({ constant: z.number().finite() }),
    ],
    { error },
  );
}

/**
 * A zod option naming one of `values`.
 * @example
 * const likelihood = enumOption(['gaussian', 'bernoulli']);
 */
export function enumOption<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (issue) => `must be one of ${listNames(values)}, got ${JSON.stringify(issue.input)}`,
  });
}

/**
 * The optional initialiser `seed` option (a finite number; default the model's seed).
 * @example
 * const schema = z.strictObject({ units: intOption(), seed: seedOption() });
 */
export function seedOption() {
  return numberOption().optional().describe("Initialiser seed; default the model's seed.");
}

/**
 * Parses a module's options with its zod schema: the options with the defaults filled in, or
 * INVALID_ARGUMENT naming the module (`place`) and the option, e.g. `dense: units must be an
 * integer >= 1, got 0`. An option the schema does not know is an error too.
 * @example
 * const options = parseModuleOptions(denseSchema, raw, 'dense');
 */
export function parseModuleOptions<S extends z.ZodType>(
  schema: S,
  options: unknown,
  place: string,
): z.output<S> {
  const result = schema.safeParse(options ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.reduce<string>(
    (out, key) =>
      typeof key === 'number' ? `${out}[${key}]` : out === '' ? String(key) : `${out}.${String(key)}`,
    '',
  );
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
      : issue.message;
  // A refinement's message (a rule between options) reads on its own; its path only places it.
  const named = path === '' || issue.code === 'custom' ? message : `${path} ${message}`;
  throw new MtlError('INVALID_ARGUMENT', named, {
    place,
    details: { option: path, issues: result.error.issues.length },
  });
}
