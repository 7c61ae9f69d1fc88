import { nativeStatus } from '@mtl/core';

/**
 * The line `--verbose` (and `mtl validate`) prints about @mtl/native: on the wasm backend whether
 * its BLAS kernels are in use and, when not, why (`MTL_NATIVE=0`, the addon not built, ...).
 * @example
 * nativeLine('wasm'); // 'native kernels: on (OpenBLAS 0.3.21 ... , 1 thread)'
 */
export function nativeLine(backend: string): string {
  if (backend !== 'wasm') return `native kernels: not used (backend ${backend})`;
  const native = nativeStatus();
  return `native kernels: ${native.active ? 'on' : 'off'} (${native.detail})`;
}
