// A plain script that imports an @mtl package must compute on the best backend without calling
// anything, and tfjs must not print its "install tfjs-node" banner (both failed before).
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { runScript, scriptErrors } from '../../../tools/readme-examples.js';

const AUTO = (() => {
  try {
    createRequire(import.meta.url).resolve('@tensorflow/tfjs-node');
    return 'tensorflow';
  } catch {
    return 'wasm';
  }
})();

const SCRIPT = `import { importedBackend } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
const x = tf.ones([2, 3]);
console.log(importedBackend, tf.getBackend(), tf.sum(x).dataSync()[0]);
`;

describe('the backend chosen at import (child processes, package sources)', () => {
  it('is the best one, with no banner, when nothing chooses', async () => {
    const result = await runScript(SCRIPT, { source: true, env: { MTL_BACKEND: undefined } });
    expect(scriptErrors(result)).toBe('');
    expect(result.lines).toEqual([`${AUTO === 'tensorflow' ? 'node' : 'wasm'} ${AUTO} 6`]);
  });

  it('is MTL_BACKEND when set, still without a banner', async () => {
    const result = await runScript(SCRIPT, { source: true, env: { MTL_BACKEND: 'cpu' } });
    expect(scriptErrors(result)).toBe('');
    expect(result.lines).toEqual(['cpu cpu 6']);
  });

  it('warns about a bad MTL_BACKEND and chooses automatically', async () => {
    const result = await runScript(SCRIPT, { source: true, env: { MTL_BACKEND: 'gpu' } });
    expect(scriptErrors(result)).toBe(
      '@mtl/core: MTL_BACKEND: unknown backend "gpu" (known: auto, cpu, node, wasm); choosing the backend automatically',
    );
    expect(result.code).toBe(0);
    expect(result.lines).toEqual([`${AUTO === 'tensorflow' ? 'node' : 'wasm'} ${AUTO} 6`]);
  });

  it('keeps a backend the program activated before importing @mtl/core', async () => {
    const script = `import * as tf from '@tensorflow/tfjs';
await tf.setBackend('cpu');
const { importedBackend } = await import('@mtl/core');
console.log(importedBackend, tf.getBackend());
`;
    const result = await runScript(script, { source: true, env: { MTL_BACKEND: undefined } });
    expect(result.lines).toEqual(['cpu cpu']);
    expect(result.code).toBe(0);
  });
});
