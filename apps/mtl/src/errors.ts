import { type MtlErrorCode, toMtlError } from '@mtl/core';

/** Codes that mean "the user's input is wrong": config, data, arguments. The CLI exits 2 on these. */
const USER_ERROR_CODES: ReadonlySet<MtlErrorCode> = new Set<MtlErrorCode>([
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
  'CHECKPOINT_CORRUPT',
  'CHECKPOINT_MISMATCH',
  'CHECKPOINT_METRIC_UNKNOWN',
  'SHAPE_MISMATCH',
  'BACKEND_UNAVAILABLE',
]);

/** The process exit code for an error: 2 for bad input, 1 for anything else. */
export function exitCodeFor(error: unknown): 1 | 2 {
  return USER_ERROR_CODES.has(toMtlError(error).code) ? 2 : 1;
}
