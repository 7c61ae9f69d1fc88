import * as tf from '@tensorflow/tfjs';

/**
 * The backends a page tries, best first. WebGPU needs @tensorflow/tfjs-backend-webgpu, which
 * this page does not bundle (it is not installed here): with it, `webgpu` would come first.
 */
export const PAGE_BACKENDS = ['webgl', 'wasm', 'cpu'] as const;

/**
 * Makes a backend active: the requested one, or for `auto` the first of {@link PAGE_BACKENDS}
 * that loads. The wasm backend fetches its .wasm files from the page's own origin (`wasm/`).
 */
export async function activateBackend(requested: string): Promise<string> {
  const order = requested === 'auto' ? [...PAGE_BACKENDS] : [requested];
  const failures: string[] = [];
  for (const name of order) {
    try {
      if (name === 'wasm') {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        wasm.setWasmPaths(new URL('./wasm/', document.baseURI).href);
      }
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
      failures.push(`${name}: not available`);
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no backend could be loaded (${failures.join('; ')})`);
}
