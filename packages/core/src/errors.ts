/**
 * The one error class of the toolkit. Every error a user can cause carries a `code` from
 * {@link MtlErrorCode} and a message that starts with the place it happened (config path, file and
 * line, task, dataset, field, row), so a person can act on it without a stack trace.
 */

/** Every code an {@link MtlError} can carry. Extend this union rather than inventing ad-hoc strings. */
export const MTL_ERROR_CODES = [
  'INVALID_ARGUMENT',
  'CONFIG_INVALID',
  'CONFIG_PARSE',
  'FILE_NOT_FOUND',
  'FILE_READ',
  'DATA_SHAPE_MISMATCH',
  'DATA_LENGTH_MISMATCH',
  'DATA_NON_FINITE',
  'DATA_INVALID',
  'DATA_EMPTY',
  'CSV_MISSING_COLUMN',
  'CSV_PARSE',
  'LABEL_OUT_OF_RANGE',
  'UNKNOWN_METRIC',
  'UNKNOWN_MODULE',
  'UNKNOWN_TASK',
  'UNKNOWN_DATASET',
  'UNKNOWN_FIELD',
  'UNKNOWN_BACKEND',
  'UNKNOWN_KEY',
  'DUPLICATE_NAME',
  'MODULE_CONFLICT',
  'CYCLE',
  'SCORE_KEY_INVALID',
  'ALL_ABSTAIN',
  'METRIC_UNDEFINED',
  'NON_FINITE_LOSS',
  'CHECKPOINT_CORRUPT',
  'CHECKPOINT_MISMATCH',
  'CHECKPOINT_METRIC_UNKNOWN',
  'FORMAT_VERSION',
  'SHAPE_MISMATCH',
  'BACKEND_UNAVAILABLE',
  'TENSOR_LEAK',
  'NOT_IMPLEMENTED',
  'INTERRUPTED',
  'INTERNAL',
] as const;

export type MtlErrorCode = (typeof MTL_ERROR_CODES)[number];

export interface MtlErrorOptions {
  /** Where it happened, e.g. `tasks.square_task.ops[1]`, `data/train.csv:12:x1`, `task circle_task`. */
  place?: string;
  /** Structured facts for programs (lengths, known names, ...). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * @example
 * throw new MtlError('DATA_LENGTH_MISMATCH', 'field "x" has 10 rows but "y" has 9', { place: 'dataset circle/train' });
 * // message: 'dataset circle/train: field "x" has 10 rows but "y" has 9'
 */
export class MtlError extends Error {
  readonly code: MtlErrorCode;
  readonly place: string | undefined;
  readonly details: Record<string, unknown>;
  /** The message without the place prefix. */
  readonly reason: string;

  constructor(code: MtlErrorCode, reason: string, options: MtlErrorOptions = {}) {
    super(
      options.place ? `${options.place}: ${reason}` : reason,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'MtlError';
    this.code = code;
    this.place = options.place;
    this.reason = reason;
    this.details = options.details ?? {};
  }

  /** A copy of this error with an outer place prefixed (e.g. a file name around a row number). */
  within(outerPlace: string): MtlError {
    const place = this.place ? `${outerPlace} ${this.place}` : outerPlace;
    return new MtlError(this.code, this.reason, { place, details: this.details, cause: this });
  }
}

/** True when `e` is an {@link MtlError}, optionally with the given code. */
export function isMtlError(e: unknown, code?: MtlErrorCode): e is MtlError {
  return e instanceof MtlError && (code === undefined || e.code === code);
}

/**
 * Turns anything thrown into an {@link MtlError}; an MtlError passes through unchanged, anything
 * else becomes `INTERNAL` with the original as `cause`.
 * @example
 * try { JSON.parse('{'); } catch (e) { console.log(toMtlError(e).code); } // 'INTERNAL'
 */
export function toMtlError(e: unknown, place?: string): MtlError {
  if (e instanceof MtlError) return e;
  const reason = e instanceof Error ? e.message : String(e);
  return new MtlError('INTERNAL', reason, place === undefined ? { cause: e } : { place, cause: e });
}

/**
 * Throws an {@link MtlError} when `condition` is false. The message is built lazily so hot paths
 * pay nothing when the check passes.
 * @example
 * assertMtl(n > 0, 'INVALID_ARGUMENT', () => `batchSize must be > 0, got ${n}`, 'DictDataLoader');
 */
export function assertMtl(
  condition: unknown,
  code: MtlErrorCode,
  reason: () => string,
  place?: string,
): asserts condition {
  if (!condition) throw new MtlError(code, reason(), place === undefined ? {} : { place });
}

/** Formats a list of names for messages: `a, b, c` (sorted), or `(none)`. */
export function listNames(names: Iterable<string>): string {
  const all = [...names].sort();
  return all.length === 0 ? '(none)' : all.join(', ');
}
