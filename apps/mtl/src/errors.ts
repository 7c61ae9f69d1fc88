import { type MtlErrorCode, toMtlError } from '@mtl/core';

/**
 * Codes that are not the input's fault: a bug, a diverged training, an unsupported case. Every
 * other code means the config, the data or the arguments are wrong, and the CLI exits 2.
 */
const NOT_INPUT_ERRORS: ReadonlySet<MtlErrorCode> = new Set<MtlErrorCode>([
  'INTERNAL',
  'NON_FINITE_LOSS',
  'TENSOR_LEAK',
  'NOT_IMPLEMENTED',
]);

/** The process exit code for an error: 130 for a stop by a signal (Ctrl-C), 2 for bad input, 1 for anything else. */
export function exitCodeFor(error: unknown): 1 | 2 | 130 {
  const { code } = toMtlError(error);
  if (code === 'INTERRUPTED') return 130;
  return NOT_INPUT_ERRORS.has(code) ? 1 : 2;
}
