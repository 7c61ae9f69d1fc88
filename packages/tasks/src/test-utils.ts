// Shared by the tests of this package (not part of the build): a plain training loop standing in
// for @mtl/training's Trainer, and the toy tasks of the Snorkel tutorial.
import { RandomStream } from '@mtl/core';
import {
  type Batch,
  DictDataLoader,
  disposeBatch,
  makeToyDatasets,
  scheduleBatches,
  type ToyTask,
} from '@mtl/data';
import * as tf from '@tensorflow/tfjs';
import type { Module } from './module.js';
import { dense } from './modules/dense.js';
import type { MultitaskModel } from './multitask-model.js';
import { Operation } from './operation.js';
import { Task } from './task.js';

export interface PlainFitOptions {
  epochs: number;
  lr: number;
  seed: number;
}

/** Adam on the sum of the loss parts over `shuffled` steps of the loaders. */
export function plainFit(model: MultitaskModel, loaders: DictDataLoader[], options: PlainFitOptions): void {
  const optimizer = tf.train.adam(options.lr);
  const source = scheduleBatches(loaders, 'shuffled', { seed: options.seed });
  const rng = new RandomStream(options.seed);
  let step = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    for (const batches of source.epoch(epoch, rng)) {
      const seed = rng.nextSeed();
      optimizer.minimize(
        () => {
          const { parts } = model.loss(batches, { step, epoch, seed, training: true });
          return tf.addN(Object.values(parts)) as tf.Scalar;
        },
        false,
        model.trainableVariables(),
      );
      disposeBatch(batches);
      step++;
    }
  }
  optimizer.dispose();
}

export interface ToyData {
  train: DictDataLoader;
  /** The train split in a fixed order, for scoring. */
  trainEval: DictDataLoader;
  valid: DictDataLoader;
  test: DictDataLoader;
}

/** The tutorial's loaders for one toy task: batch 32, train shuffled by `seed`. */
export function toyLoaders(task: ToyTask, seed: number): ToyData {
  const ds = makeToyDatasets(task, {}, seed);
  return {
    train: new DictDataLoader(ds.train!, { batchSize: 32, shuffle: true, seed }),
    trainEval: new DictDataLoader(ds.train!, { batchSize: 32, shuffle: false }),
    valid: new DictDataLoader(ds.valid!, { batchSize: 32 }),
    test: new DictDataLoader(ds.test!, { batchSize: 32 }),
  };
}

/** `<task>_task`: the shared trunk then a 4 -> 2 head `<task>_head`, reading `<task>_data`. */
export function toyTask(task: ToyTask, base: Module): Task {
  return new Task({
    name: `${task}_task`,
    modulePool: { base_mlp: base, [`${task}_head`]: dense({ inputSize: 4, units: 2 }) },
    opSequence: [
      new Operation({ moduleName: 'base_mlp', inputs: [['_input_', `${task}_data`]] }),
      new Operation({ moduleName: `${task}_head`, inputs: ['base_mlp'] }),
    ],
  });
}

/** A batch built by hand (tensors owned by the caller). */
export function handBatch(
  dataset: string,
  split: string,
  X: Record<string, tf.Tensor>,
  Y: Record<string, tf.Tensor> = {},
): Batch {
  const size = Object.values(X)[0]!.shape[0]!;
  return { dataset, split, X, Y, size, indices: Int32Array.from({ length: size }, (_, i) => i) };
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Largest gap between tfjs's gradient of `loss` with respect to `v` and central finite differences
 * (step `eps`), relative to max(1, |gradient|). Runs on the active backend (wasm by default).
 */
export function gradientGap(loss: () => tf.Scalar, v: tf.Variable, eps = 1e-2): number {
  const { grads, value } = tf.variableGrads(loss, [v]);
  const analytic = grads[v.name]!.dataSync().slice();
  tf.dispose([value, grads[v.name]!]);
  const base = Float32Array.from(v.dataSync());
  const evalAt = (values: Float32Array) => {
    tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
    return tf.tidy(() => loss().dataSync()[0]!);
  };
  let gap = 0;
  for (let i = 0; i < base.length; i++) {
    const plus = base.slice();
    plus[i] = base[i]! + eps;
    const minus = base.slice();
    minus[i] = base[i]! - eps;
    const numeric = (evalAt(plus) - evalAt(minus)) / (2 * eps);
    gap = Math.max(gap, Math.abs(numeric - analytic[i]!) / Math.max(1, Math.abs(analytic[i]!)));
  }
  tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
  return gap;
}
