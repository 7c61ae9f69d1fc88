// Test helpers for code that reports bad input with MtlError; tfjs-free, so any package's tests
// (and a library user's) can import them.
import { isMtlError, type MtlError } from './errors.js';

/**
 * The MtlError that `f` throws (or that the promise, or `f`'s promise, rejects with), so a test can
 * assert its `code`, `place` and message. Any other error is rethrown; no error at all fails.
 *
 * @example
 * expect(caught(() => assertMtl(false, 'INVALID_ARGUMENT', () => 'bad', 'x')).place).toBe('x');
 * expect((await caught(readCsv('missing.csv'))).code).toBe('FILE_NOT_FOUND');
 */
export function caught(p: Promise<unknown>): Promise<MtlError>;
export function caught(f: () => Promise<unknown>): Promise<MtlError>;
export function caught(f: () => unknown): MtlError;
export function caught(p: Promise<unknown> | (() => unknown)): MtlError | Promise<MtlError> {
  let result: unknown;
  try {
    result = typeof p === 'function' ? p() : p;
  } catch (e) {
    return onlyMtl(e);
  }
  if (result instanceof Promise) {
    return result.then(
      () => {
        throw new Error('expected an MtlError, but the promise resolved');
      },
      (e: unknown) => onlyMtl(e),
    );
  }
  throw new Error('expected an MtlError, but nothing was thrown');
}

function onlyMtl(e: unknown): MtlError {
  if (isMtlError(e)) return e;
  throw e;
}
