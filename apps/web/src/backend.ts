import * as tf from '@tensorflow/tfjs';

/**
 * The backends a page tries, best first. WebGPU's backend (@tensorflow/tfjs-backend-webgpu) is
 * loaded only when it is tried, and only where the browser has WebGPU with an adapter.
 */
export const PAGE_BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

/** The backend made active, and why each better one was passed over (empty for a named one). */
export interface ActiveBackend {
  name: string;
  skipped: string[];
}

/** Why WebGPU cannot run here, or undefined when an adapter is there. */
async function webgpuMissing(): Promise<string | undefined> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (gpu === undefined) return 'this browser has no WebGPU';
  try {
    return (await gpu.requestAdapter()) === null ? 'no GPU adapter' : undefined;
  } catch (e) {
    return `no GPU adapter (${(e as Error).message})`;
  }
}

/**
 * Makes a backend active: the requested one, or for `auto` the first of {@link PAGE_BACKENDS}
 * that loads. The wasm backend fetches its .wasm files from the page's own origin (`wasm/`).
 */
export async function activateBackend(requested: string): Promise<ActiveBackend> {
  const order = requested === 'auto' ? [...PAGE_BACKENDS] : [requested];
  const failures: string[] = [];
  for (const name of order) {
    try {
      if (name === 'webgpu') {
        const missing = await webgpuMissing();
        if (missing !== undefined) {
          failures.push(`webgpu: ${missing}`);
          continue;
        }
        await import('@tensorflow/tfjs-backend-webgpu');
      }
      if (name === 'wasm') {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        wasm.setWasmPaths(new URL('./wasm/', document.baseURI).href);
      }
      if (await tf.setBackend(name)) {
        await tf.ready();
        return { name, skipped: failures };
      }
      failures.push(`${name}: not available`);
    } catch (e) {
      failures.push(`${name}: ${(e as Error).message}`);
    }
  }
  throw new Error(`no backend could be loaded (${failures.join('; ')})`);
}
