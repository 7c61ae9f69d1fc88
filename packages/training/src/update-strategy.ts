import { MtlError } from '@mtl/core';

/**
 * Where {@link TrainerOptimizer} runs its update rule on a backend (see `OptimizerUpdates`):
 * `host` (a float32 loop in JavaScript or native code on gradients read back) or `tensor` (tfjs
 * ops on the device).
 * @example
 * const s: UpdateStrategy = 'host';
 */
export type UpdateStrategy = 'host' | 'tensor';

// The one place that knows which backends favour host updates: on cpu and wasm a tfjs op costs
// microseconds of bookkeeping whatever its size and a read-back is a copy, not a stall, so the
// small and mid-sized models of multitask learning update several times faster on the host.
// Everything else (webgl, webgpu, tfjs-node) keeps tensors on the device.
const strategies = new Map<string, UpdateStrategy>([
  ['cpu', 'host'],
  ['wasm', 'host'],
]);

/**
 * Registers the update strategy that `updates: 'auto'` picks on a backend (read when an optimizer
 * is made). A backend package registers itself here, so optimizer and trainer code never test a
 * backend's name.
 * @example
 * registerUpdateStrategy('my-backend', 'host');
 */
export function registerUpdateStrategy(backend: string, strategy: UpdateStrategy): void {
  if (typeof backend !== 'string' || backend === '') {
    throw new MtlError('INVALID_ARGUMENT', 'a backend name must be a non-empty string', {
      place: 'registerUpdateStrategy',
    });
  }
  if (strategy !== 'host' && strategy !== 'tensor') {
    throw new MtlError(
      'INVALID_ARGUMENT',
      `an update strategy is host or tensor, got "${String(strategy)}"`,
      { place: `registerUpdateStrategy ${backend}` },
    );
  }
  strategies.set(backend, strategy);
}

/**
 * The update strategy registered for `backend` (`tensor` when none is).
 * @example
 * updateStrategyFor('wasm'); // 'host'
 */
export function updateStrategyFor(backend: string): UpdateStrategy {
  return strategies.get(backend) ?? 'tensor';
}
