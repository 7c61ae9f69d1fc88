// The native path inside real training: the optimizer's native Adam against its JavaScript rule
// (bit for bit), and a multitask training run (bit-identical run to run; close to tfjs's kernels).
import { nativeStatus, RandomStream, selectBackend } from '@mtl/core';
import { DictDataLoader, DictDataset, scheduleBatches } from '@mtl/data';
import { dense, MultitaskModel, mlp, Operation, Task } from '@mtl/tasks';
import { Trainer, TrainerOptimizer } from '@mtl/training';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAddon } from './addon.js';
import { DENSE_GRAD, installNative, uninstallNative } from './index.js';

const built = loadAddon().addon !== undefined;
let wasRegistered = false;

function bits(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

function dataset(k: number, n: number, dim: number, seed: number): DictDataset {
  const rng = new RandomStream(seed).child(`native-test/${k}`);
  const x = new Float32Array(n * dim);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const v = Math.fround(2 * rng.next() - 1);
      x[i * dim + j] = v;
      s += (j % (k + 2) === 0 ? 1 : -0.5) * v;
    }
    y[i] = s > 0 ? 1 : 0;
  }
  return new DictDataset(
    `t${k}Dataset`,
    'train',
    { [`t${k}_data`]: { values: x, shape: [n, dim] } },
    { [`t${k}`]: y },
    { numClasses: 2, copy: false },
  );
}

/** Trains 3 tasks on a shared 12-32-16 ReLU trunk for 40 Adam steps; returns every weight. */
async function train(): Promise<Map<string, Float32Array>> {
  const seed = 5;
  const data = [0, 1, 2].map((k) => dataset(k, 256, 12, seed));
  const base = mlp({ inputSize: 12, hidden: [32, 16] });
  const tasks = data.map(
    (_, k) =>
      new Task({
        name: `t${k}`,
        modulePool: { base, [`head${k}`]: dense({ inputSize: 16, units: 2 }) },
        opSequence: [
          new Operation({ moduleName: 'base', inputs: [['_input_', `t${k}_data`]] }),
          new Operation({ moduleName: `head${k}`, inputs: ['base'] }),
        ],
      }),
  );
  const model = new MultitaskModel(tasks, { seed });
  const loaders = data.map((d) => new DictDataLoader(d, { batchSize: 32, shuffle: true, seed }));
  const trainer = new Trainer({ epochs: 2, lr: 1e-2, seed, optimizer: { type: 'adam' }, steps: 40 });
  await trainer.fit(model, { train: scheduleBatches(loaders, 'shuffled', { seed }) });
  const weights = new Map(
    model.trainableVariables().map((v) => [v.name, v.dataSync().slice() as Float32Array]),
  );
  model.dispose();
  return weights;
}

describe.skipIf(!built)('training on the native path', () => {
  beforeAll(async () => {
    await selectBackend({ backend: 'wasm' });
    wasRegistered = nativeStatus().registered;
    installNative({ env: {} });
  });
  afterAll(() => {
    if (!wasRegistered) uninstallNative('disabled by MTL_NATIVE=0');
  });

  for (const config of [
    { type: 'adam' as const },
    { type: 'adamw' as const, weightDecay: 0.05, beta1: 0.8, epsilon: 1e-6 },
  ]) {
    it(`native ${config.type} updates are bit for bit the JavaScript host rule's (with a clipping scale)`, () => {
      const make = (native: boolean) => new TrainerOptimizer(config, { updates: 'host', native });
      const fast = make(true);
      const slow = make(false);
      expect(fast.nativeUpdates).toBe(true);
      expect(slow.nativeUpdates).toBe(false);
      const rng = new RandomStream(11);
      const init = Float32Array.from({ length: 1003 }, () => rng.next() * 2 - 1);
      const a = tf.variable(tf.tensor1d(init), true, 'native-adam/a');
      const b = tf.variable(tf.tensor1d(init), true, 'native-adam/b');
      for (let step = 0; step < 25; step++) {
        // Gradients over many magnitudes, some exactly zero.
        const g = Float32Array.from({ length: 1003 }, (_, i) =>
          i % 17 === 0 ? 0 : (rng.next() - 0.5) * 10 ** (((i + step) % 9) - 5),
        );
        const scale = step % 3 === 0 ? 0.37 : 1;
        fast.applyGradientValues([a], new Map([[a.name, g]]), 3e-3 / (1 + step), scale);
        slow.applyGradientValues([b], new Map([[b.name, g]]), 3e-3 / (1 + step), scale);
      }
      const wa = a.dataSync() as Float32Array;
      const wb = b.dataSync() as Float32Array;
      expect(wa).not.toEqual(init);
      expect(bits(wa)).toEqual(bits(wb));
      tf.dispose([a, b]);
      fast.dispose();
      slow.dispose();
    });
  }

  it("the native gradient sum of squares is the JavaScript loop's float64 sum, bit for bit", () => {
    const fast = new TrainerOptimizer({ type: 'sgd' }, { updates: 'host', native: true });
    const slow = new TrainerOptimizer({ type: 'sgd' }, { updates: 'host', native: false });
    const rng = new RandomStream(12);
    const arrays = [5, 1000, 77_777, 3].map((n, k) =>
      Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 10 ** (k - 2)),
    );
    const a = fast.sumOfSquares(arrays);
    expect(a).toBeGreaterThan(0);
    expect(Object.is(a, slow.sumOfSquares(arrays))).toBe(true);
  });

  it('the gradient sum of squares of more arrays than the addon takes (a model of > 24 variables) is the same sum', () => {
    const fast = new TrainerOptimizer({ type: 'sgd' }, { updates: 'host', native: true });
    const slow = new TrainerOptimizer({ type: 'sgd' }, { updates: 'host', native: false });
    const rng = new RandomStream(13);
    const arrays = Array.from({ length: 64 }, (_, k) =>
      Float32Array.from({ length: 4 + k }, () => rng.next() - 0.5),
    );
    // Before: the addon read 24 argument slots and then undefined memory (an error or a crash).
    const a = fast.sumOfSquares(arrays);
    expect(Object.is(a, slow.sumOfSquares(arrays))).toBe(true);
    expect(a).toBeCloseTo(
      arrays.reduce((s, g) => s + g.reduce((t, v) => t + v * v, 0), 0),
      10,
    );
  });

  it('the addon itself refuses more arguments than it reads, with a clear error, instead of reading past them', () => {
    const addon = loadAddon().addon!;
    const arrays = Array.from({ length: 25 }, () => Float32Array.of(1, 2));
    expect(() => addon.sumSquares(...arrays)).toThrow(/too many arguments: 25 \(at most 24\)/);
    expect(addon.sumSquares(...arrays.slice(0, 24))).toBe(24 * 5);
    expect(() => addon.setThreads(...(Array.from({ length: 30 }, () => 1) as [number]))).toThrow(
      /too many arguments: 30/,
    );
  });

  it('a multitask training run is bit-identical run to run, uses the native kernels, and stays close to tfjs kernels', async () => {
    let first = new Map<string, Float32Array>();
    const profile = await tf.profile(async () => {
      first = await train();
      return [];
    });
    const kernels = new Set(profile.kernelNames);
    expect(kernels.has(DENSE_GRAD)).toBe(true);
    expect(kernels.has('_FusedMatMul')).toBe(true);
    const before = tf.memory().numTensors;
    const second = await train();
    expect(tf.memory().numTensors).toBe(before);
    for (const [name, w] of first) expect(bits(second.get(name)!), name).toEqual(bits(w));

    uninstallNative('test');
    let plain: Map<string, Float32Array>;
    try {
      plain = await train();
    } finally {
      installNative({ env: {} });
    }
    let maxDiff = 0;
    for (const [name, w] of first) {
      const p = plain.get(name)!;
      for (let i = 0; i < w.length; i++) maxDiff = Math.max(maxDiff, Math.abs(w[i]! - p[i]!));
    }
    // Float rounding in another order for 40 steps: far below the size of one Adam step (1e-2).
    expect(maxDiff).toBeLessThan(1e-3);
  });
});
