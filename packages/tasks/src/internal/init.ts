import type { RandomStream } from '@mtl/core';

/**
 * How a parameter starts. Drawn in JavaScript from a {@link RandomStream} rather than by tfjs
 * random ops, so that the same seed gives the same weights on every backend.
 * - `glorotUniform`: U(-l, l), l = sqrt(6 / (fanIn + fanOut)) (Keras' default for dense kernels).
 * - `heUniform`: U(-l, l), l = sqrt(6 / fanIn) (suits ReLU stacks).
 * - `torchUniform`: U(-l, l), l = 1 / sqrt(fanIn) (PyTorch's default for `nn.Linear`, weights and bias).
 * - `{uniform: a}`: U(-a, a); `{normal: s}`: N(0, s^2); `{constant: c}`; `zeros`; `ones`.
 * @example
 * const head = dense({ inputSize: 4, units: 2, kernelInit: 'torchUniform', biasInit: 'torchUniform' });
 */
export type Initializer =
  | 'zeros'
  | 'ones'
  | 'glorotUniform'
  | 'heUniform'
  | 'torchUniform'
  | { uniform: number }
  | { normal: number }
  | { constant: number };

export const INITIALIZER_NAMES = ['zeros', 'ones', 'glorotUniform', 'heUniform', 'torchUniform'] as const;

/** Fills a row-major Float32Array of `shape` following `init`. */
export function initialValues(
  init: Initializer,
  shape: readonly number[],
  fans: { fanIn: number; fanOut: number },
  rng: RandomStream,
): Float32Array {
  const size = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(size);
  const uniform = (limit: number) => {
    for (let i = 0; i < size; i++) out[i] = (2 * rng.next() - 1) * limit;
  };
  if (init === 'zeros') return out;
  if (init === 'ones') return out.fill(1);
  if (init === 'glorotUniform') uniform(Math.sqrt(6 / Math.max(1, fans.fanIn + fans.fanOut)));
  else if (init === 'heUniform') uniform(Math.sqrt(6 / Math.max(1, fans.fanIn)));
  else if (init === 'torchUniform') uniform(1 / Math.sqrt(Math.max(1, fans.fanIn)));
  else if ('uniform' in init) uniform(init.uniform);
  else if ('normal' in init) for (let i = 0; i < size; i++) out[i] = rng.normal() * init.normal;
  else out.fill(init.constant);
  return out;
}

/** Whether `value` is a valid {@link Initializer} (for configs read from files). */
export function isInitializer(value: unknown): value is Initializer {
  if (typeof value === 'string') return (INITIALIZER_NAMES as readonly string[]).includes(value);
  if (value === null || typeof value !== 'object') return false;
  const keys = Object.keys(value);
  if (keys.length !== 1) return false;
  const v = (value as Record<string, unknown>)[keys[0]!];
  return ['uniform', 'normal', 'constant'].includes(keys[0]!) && typeof v === 'number' && Number.isFinite(v);
}
