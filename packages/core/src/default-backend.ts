import * as tf from '@tensorflow/tfjs';
import { type BackendName, currentBackend, selectBackend } from './backend.js';

/**
 * In Node, importing `@mtl/core` (which every tfjs-using `@mtl` package does) activates the best
 * backend before any tensor exists, so a library user gets tfjs-node > wasm > cpu without calling
 * anything. Left alone, tfjs would pick its synchronous `cpu` backend on the first tensor and
 * print its "install tfjs-node" banner; wasm cannot be chosen lazily because its initialisation
 * is asynchronous and model constructors are not. `MTL_BACKEND` chooses instead; a backend some
 * code already activated is kept; `selectBackend()` or `tf.setBackend()` switch later.
 */
async function selectAtImport(): Promise<BackendName | undefined> {
  if (typeof process === 'undefined' || process.versions?.node === undefined) return undefined;
  if (tf.getBackend() != null) return currentBackend();
  let chosen: BackendName;
  try {
    chosen = await selectBackend();
  } catch (e) {
    // A bad MTL_BACKEND cannot be thrown from an import; explicit selectBackend() calls
    // (the mtl CLI makes one) still fail with the full error.
    console.warn(`@mtl/core: ${(e as Error).message}; choosing the backend automatically`);
    chosen = await selectBackend({ backend: 'auto' });
  }
  if (chosen === 'cpu' && !process.env.MTL_BACKEND?.trim()) {
    console.warn('@mtl/core: neither tfjs-node nor the wasm backend loaded; running on the slow cpu backend');
  }
  return chosen;
}

/**
 * The backend activated when `@mtl/core` was imported (Node), or undefined in a browser.
 * @example
 * import { importedBackend } from '@mtl/core';
 * console.log(importedBackend); // 'wasm' on a machine without tfjs-node
 */
export const importedBackend: BackendName | undefined = await selectAtImport();
