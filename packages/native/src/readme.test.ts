import { nativeStatus, selectBackend } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import { expect, it } from 'vitest';
import { loadAddon } from './addon.js';
import { installNative, uninstallNative } from './index.js';

it.skipIf(loadAddon().addon === undefined)('README example runs', async () => {
  await selectBackend({ backend: 'wasm' });
  const before = nativeStatus().registered;
  installNative({ env: {} }); // as selectBackend does unless MTL_NATIVE=0
  try {
    expect(nativeStatus()).toMatchObject({ active: true, registered: true });
    expect(nativeStatus().detail).toMatch(/1 thread/);
    const y = tf.fused.matMul({
      a: tf.ones([2, 3]),
      b: tf.ones([4, 3]),
      transposeB: true,
      bias: tf.ones([4]),
    });
    expect(Array.from(y.dataSync())).toEqual([4, 4, 4, 4, 4, 4, 4, 4]);
    tf.dispose(y);
    uninstallNative();
    expect(nativeStatus().registered).toBe(false);
  } finally {
    if (before) installNative({ env: {} });
  }
});
