import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { currentBackend, selectBackend } from './backend.js';

describe('selectBackend', () => {
  it('auto picks a working backend and tfjs computes on it', async () => {
    const name = await selectBackend({ env: {} });
    expect(['node', 'wasm', 'cpu']).toContain(name);
    expect(currentBackend()).toBe(name);
    expect(Array.from(tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([3, 1]))).dataSync())).toEqual([3, 3]);
  });

  it('honours the option over MTL_BACKEND and MTL_BACKEND over auto', async () => {
    expect(await selectBackend({ backend: 'cpu', env: { MTL_BACKEND: 'wasm' } })).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await selectBackend({ env: { MTL_BACKEND: 'wasm' } })).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects unknown names, naming where they came from', async () => {
    await expect(selectBackend({ env: { MTL_BACKEND: 'gpu' } })).rejects.toThrow(
      'MTL_BACKEND: unknown backend "gpu" (known: auto, cpu, node, wasm)',
    );
  });

  it('an explicit backend that cannot load is an error, not a silent fallback', async () => {
    let nodeInstalled = true;
    try {
      createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    } catch {
      nodeInstalled = false;
    }
    if (nodeInstalled) return;
    await expect(selectBackend({ backend: 'node' })).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });
});
