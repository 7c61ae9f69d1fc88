import * as tf from '@tensorflow/tfjs';
import { MtlError } from './errors.js';

/**
 * Runs `fn` and returns how many tensors it left behind (tensors alive after minus before),
 * together with its result.
 * @example
 * const { leaked } = await countNewTensors(() => tf.tidy(() => tf.ones([2]).sum().dataSync()));
 * // leaked === 0
 */
export async function countNewTensors<T>(fn: () => T | Promise<T>): Promise<{ result: T; leaked: number }> {
  const before = tf.memory().numTensors;
  const result = await fn();
  return { result, leaked: tf.memory().numTensors - before };
}

/**
 * Runs `fn` and throws `TENSOR_LEAK` when it leaves tensors behind. `allow` tolerates a known
 * number of new tensors (for example a returned tensor the caller will dispose).
 * @example
 * await assertNoLeaks(() => model.predict(loader), { label: 'predict' });
 */
export async function assertNoLeaks<T>(
  fn: () => T | Promise<T>,
  options: { allow?: number; label?: string } = {},
): Promise<T> {
  const { result, leaked } = await countNewTensors(fn);
  const allow = options.allow ?? 0;
  if (leaked !== allow) {
    throw new MtlError('TENSOR_LEAK', `${leaked} tensor(s) left behind (expected ${allow})`, {
      place: options.label ?? 'assertNoLeaks',
      details: { leaked, allow },
    });
  }
  return result;
}

/** Disposes every tensor found in a (nested) record/array of tensors; ignores everything else. */
export function disposeAll(value: unknown): void {
  if (value instanceof tf.Tensor) {
    value.dispose();
  } else if (Array.isArray(value)) {
    for (const v of value) disposeAll(v);
  } else if (
    value !== null &&
    typeof value === 'object' &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    for (const v of Object.values(value)) disposeAll(v);
  }
}
