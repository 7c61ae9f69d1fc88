// Not the main entry: @mtl/core selects the backend at import (a top-level await) and loads this
// package while doing so; importing that entry from here would wait on itself.
import { type NativeStatus, nativeStatus, reportNative } from '@mtl/core/native-state';
import { loadAddon, tf } from './addon.js';
import {
  DENSE_GRAD,
  planProduct,
  registerNativeKernels,
  SOFTMAX_CROSS_ENTROPY,
  unregisterNativeKernels,
} from './kernels.js';

export { DENSE_GRAD, type NativeStatus, nativeStatus, planProduct, SOFTMAX_CROSS_ENTROPY };

/**
 * OpenBLAS threads by default. Measured on the 2-vCPU machine (tools/bench/README.md): a second
 * thread speeds W2 up only when the cores are otherwise idle, and OpenBLAS's worker busy-waits after
 * every call, so it costs a whole core for little.
 */
export const DEFAULT_THREADS = 1;

/** The most arguments a call into the addon reads (`Args::argv` in binding/mtl_native.cc). */
const MAX_ADDON_ARGS = 24;

function jsSumSquares(arrays: readonly Float32Array[]): number {
  let sum = 0;
  for (const g of arrays) for (let i = 0; i < g.length; i++) sum += g[i]! * g[i]!;
  return sum;
}

export interface InstallNativeOptions {
  /** Read for `MTL_NATIVE` (`0`: off) and `MTL_NATIVE_THREADS`; `process.env` by default. */
  env?: Record<string, string | undefined>;
  /** BLAS threads; wins over `MTL_NATIVE_THREADS`. */
  threads?: number;
}

/**
 * Registers the native kernels for tfjs's wasm backend when the addon loads: BLAS `BatchMatMul` and
 * `_FusedMatMul` (every transpose and broadcast batch, bias and activation epilogue), the
 * `MtlDenseGrad` kernel (a dense layer's backward pass in one call) and the native Adam rule for
 * `@mtl/training`'s host updates. With `MTL_NATIVE=0` it removes them instead. Never throws: the
 * returned status says what happened. `selectBackend` in @mtl/core calls it when it activates wasm.
 * @example
 * import { installNative } from '@mtl/native';
 * const status = installNative();       // { active: true, registered: true, detail: 'OpenBLAS …, 1 thread' }
 */
export function installNative(options: InstallNativeOptions = {}): NativeStatus {
  const env = options.env ?? globalThis.process?.env ?? {};
  if (env.MTL_NATIVE?.trim() === '0') {
    uninstallNative('disabled by MTL_NATIVE=0');
    return nativeStatus();
  }
  const { addon, error } = loadAddon();
  if (addon === undefined) {
    uninstallNative(error ?? 'the addon did not load');
    return nativeStatus();
  }
  const wanted = options.threads ?? (Number(env.MTL_NATIVE_THREADS) || DEFAULT_THREADS);
  const threads = addon.setThreads(Math.max(1, Math.floor(wanted)));
  try {
    registerNativeKernels(addon);
  } catch (e) {
    uninstallNative(e instanceof Error ? e.message : String(e));
    return nativeStatus();
  }
  const library = addon.config().trim();
  reportNative({
    registered: true,
    detail: `${library}${threads > 0 ? `, ${threads} thread${threads === 1 ? '' : 's'}` : ''}`,
    rules: {
      adam: (w, g, m, v, out, s) =>
        addon.adam(w, g, m, v, out, s.b1, s.b2, s.a1, s.a2, s.c1, s.c2, s.eps, s.decay, s.lr, s.scale),
      // The addon takes at most MAX_ADDON_ARGS arguments (it refuses more with an error); a model
      // with more gradient arrays takes the JavaScript loop, the same float64 sum bit for bit.
      sumSquares: (arrays) =>
        arrays.length <= MAX_ADDON_ARGS ? addon.sumSquares(...arrays) : jsSumSquares(arrays),
    },
    isActive: () => tf.getBackend() === 'wasm',
  });
  return nativeStatus();
}

/**
 * Puts tfjs's own wasm kernels back and withdraws the native update rules (optimizers built
 * afterwards use the JavaScript host path).
 * @example
 * uninstallNative();
 * nativeStatus().registered; // false
 */
export function uninstallNative(reason = 'uninstalled'): void {
  unregisterNativeKernels();
  reportNative({ registered: false, detail: reason });
}
