// Test helpers (excluded from the build): the seed example's data, a stacked-batch iterator and a plain Adam loop.
import { RandomStream } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';
import type { TaskBatch, VmtlModel, VmtlTask } from '../vmtl-model.js';

export interface TaskSplit {
  x: Float32Array;
  y: Float32Array;
  n: number;
}

export interface SeedTask {
  name: string;
  dataset: string;
  trueW: number[];
  train: TaskSplit;
  test: TaskSplit;
}

/**
 * The VMTL elementary example (REFERENCE.md §2): X ~ 5·N(0, I); tasks 1 and 2 share X up to noise
 * 0.01; w_1 ~ N(mean X_2, 0.1² I), w_2 ~ N(mean X_1, 0.1² I), w_3 ~ N(1, 0.1² I);
 * y ~ Bernoulli(σ(x · w)); 20% held out for test.
 */
export function makeSeedExample(
  options: { sizes?: readonly number[]; dim?: number; seed?: number; testFraction?: number } = {},
): SeedTask[] {
  const sizes = options.sizes ?? [600, 600, 600];
  const D = options.dim ?? 2;
  const rng = new RandomStream(options.seed ?? 43);
  const testFraction = options.testFraction ?? 0.2;
  const draw = (n: number, scale: number) => Float32Array.from({ length: n * D }, () => scale * rng.normal());
  const X1 = draw(sizes[0]!, 5);
  // Task 2: the same inputs as task 1 (as many rows as it has) up to noise 0.01.
  const X2 = Float32Array.from({ length: sizes[1]! * D }, (_, i) => X1[i % X1.length]! + 0.01 * rng.normal());
  const X3 = draw(sizes[2]!, 5);
  const mean = (X: Float32Array) => {
    const m = new Array<number>(D).fill(0);
    const n = X.length / D;
    for (let i = 0; i < n; i++) for (let d = 0; d < D; d++) m[d]! += X[i * D + d]! / n;
    return m;
  };
  const mX1 = mean(X1);
  const mX2 = mean(X2);
  const w1 = mX2.map((m) => m + 0.1 * rng.normal());
  const w2 = mX1.map((m) => m + 0.1 * rng.normal());
  const w3 = new Array<number>(D).fill(0).map(() => 1 + 0.1 * rng.normal());
  const make = (name: string, X: Float32Array, w: number[], n: number): SeedTask => {
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let a = 0;
      for (let d = 0; d < D; d++) a += X[i * D + d]! * w[d]!;
      y[i] = rng.next() < 1 / (1 + Math.exp(-a)) ? 1 : 0;
    }
    const order = rng.permutation(n);
    const nTest = Math.round(n * testFraction);
    const pick = (rows: Int32Array): TaskSplit => {
      const x = new Float32Array(rows.length * D);
      const yy = new Float32Array(rows.length);
      rows.forEach((r, i) => {
        for (let d = 0; d < D; d++) x[i * D + d] = X[r * D + d]!;
        yy[i] = y[r]!;
      });
      return { x, y: yy, n: rows.length };
    };
    return {
      name,
      dataset: `${name}_data`,
      trueW: w,
      test: pick(order.slice(0, nTest)),
      train: pick(order.slice(nTest)),
    };
  };
  return [
    make('task1', X1, w1, sizes[0]!),
    make('task2', X2, w2, sizes[1]!),
    make('task3', X3, w3, sizes[2]!),
  ];
}

export function vmtlTasks(tasks: readonly SeedTask[]): VmtlTask[] {
  return tasks.map((t) => ({ name: t.name, dataset: t.dataset, trainSize: t.train.n, label: 'y' }));
}

export function splitBatch(task: SeedTask, split: 'train' | 'test', rows?: ArrayLike<number>): TaskBatch {
  const s = task[split];
  const D = s.x.length / s.n;
  const idx = rows ? Array.from(rows) : Array.from({ length: s.n }, (_, i) => i);
  const x = new Float32Array(idx.length * D);
  const y = new Float32Array(idx.length);
  idx.forEach((r, i) => {
    for (let d = 0; d < D; d++) x[i * D + d] = s.x[r * D + d]!;
    y[i] = s.y[r]!;
  });
  return {
    dataset: task.dataset,
    split,
    X: { x: tf.tensor2d(x, [idx.length, D]) },
    Y: { y: tf.tensor1d(y) },
    size: idx.length,
  };
}

export function disposeStep(step: readonly TaskBatch[]): void {
  for (const b of step) tf.dispose([...Object.values(b.X), ...Object.values(b.Y)]);
}

/**
 * Stacked steps of one epoch: the largest task sets the number of steps (ceil(N_max / B)); each
 * task walks its own shuffled order and smaller tasks reshuffle and cycle when they run out.
 */
export function* stackedEpoch(
  tasks: readonly SeedTask[],
  batchSize: number,
  rng: RandomStream,
  cursors: { order: Int32Array; pos: number }[],
): Generator<TaskBatch[]> {
  const nMax = Math.max(...tasks.map((t) => t.train.n));
  const steps = Math.ceil(nMax / batchSize);
  for (let s = 0; s < steps; s++) {
    const isLast = s === steps - 1;
    yield tasks.map((task, t) => {
      const n = task.train.n;
      const c = cursors[t]!;
      // The largest task's last batch may be short; the others always bring full batches.
      const want = n === nMax && isLast ? nMax - s * batchSize : Math.min(batchSize, n);
      const rows: number[] = [];
      while (rows.length < want) {
        if (c.pos >= c.order.length) {
          c.order = rng.permutation(n);
          c.pos = 0;
        }
        rows.push(c.order[c.pos++]!);
      }
      return splitBatch(task, 'train', rows);
    });
  }
}

export interface TrainOptions {
  epochs: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  /** Called after every step with its number (for checks). */
  onStep?: (step: number) => void;
}

/** A plain Adam loop until @mtl/training exists: minimise the sum of the loss parts. */
export function trainPlain(model: VmtlModel, tasks: readonly SeedTask[], options: TrainOptions): void {
  const rng = new RandomStream(options.seed ?? 43);
  const batchSize = options.batchSize ?? 16;
  const optimizer = tf.train.adam(options.lr ?? 1e-3);
  const vars = model.trainableVariables();
  const cursors = tasks.map((t) => ({ order: rng.permutation(t.train.n), pos: 0 }));
  let step = 0;
  try {
    for (let epoch = 0; epoch < options.epochs; epoch++) {
      for (const batch of stackedEpoch(tasks, batchSize, rng, cursors)) {
        const ctx = { step, epoch, seed: rng.nextSeed(), training: true };
        optimizer.minimize(
          () => tf.addN(Object.values(model.loss(batch, ctx).parts)) as tf.Scalar,
          false,
          vars,
        );
        disposeStep(batch);
        options.onStep?.(step);
        step++;
      }
    }
  } finally {
    optimizer.dispose();
  }
}

/** Accuracy of the true w (x · w > 0 predicts 1) on a task's test split. */
export function trueAccuracy(task: SeedTask): number {
  const { x, y, n } = task.test;
  const D = task.trueW.length;
  let c = 0;
  for (let i = 0; i < n; i++) {
    let a = 0;
    for (let d = 0; d < D; d++) a += x[i * D + d]! * task.trueW[d]!;
    if ((a > 0 ? 1 : 0) === y[i]) c++;
  }
  return c / n;
}

export function testBatches(tasks: readonly SeedTask[]): TaskBatch[] {
  return tasks.map((t) => splitBatch(t, 'test'));
}

/** Central finite difference of a scalar function of a flat parameter vector. */
export function finiteDifference(f: (theta: number[]) => number, theta: number[], h = 1e-2): number[] {
  return theta.map((_, i) => {
    const up = [...theta];
    const down = [...theta];
    up[i]! += h;
    down[i]! -= h;
    return (f(up) - f(down)) / (2 * h);
  });
}

/** Reads a tensor as a flat number array and disposes it. */
export function take(t: tf.Tensor): number[] {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
}
