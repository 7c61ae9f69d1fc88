// Small hand-made Trainables and batch sources for the tests (not part of the build).
import { type BatchSource, type LossOutput, RandomStream, type StepContext, type Trainable } from '@mtl/core';
import * as tf from '@tensorflow/tfjs';

export const f32 = Math.fround;

let counter = 0;
/** tfjs variable names are global: tests that build several models at once need distinct names. */
export function uniqueName(base: string): string {
  counter += 1;
  return `${base}${counter}`;
}

/** Which pseudo-tasks a quadratic batch trains (default: all of them). */
export interface QuadBatch {
  tasks?: string[];
}

/**
 * `w ∈ R^d` with one part per pseudo-task: `part_t = Σ (w − target_t)²`, keyed `t/ds`.
 * `nanAtStep` makes every part NaN at that step (to test the guard).
 */
export class Quadratic implements Trainable<QuadBatch> {
  readonly w: tf.Variable;
  private readonly targets: Record<string, tf.Tensor1D>;
  nanAtStep: number | undefined;

  constructor(options: {
    init: number[];
    targets: Record<string, number[]>;
    name?: string;
    nanAtStep?: number;
  }) {
    this.w = tf.variable(tf.tensor1d(options.init), true, options.name ?? uniqueName('quad/w'));
    this.targets = Object.fromEntries(Object.entries(options.targets).map(([k, v]) => [k, tf.tensor1d(v)]));
    this.nanAtStep = options.nanAtStep;
  }

  trainableVariables(): tf.Variable[] {
    return [this.w];
  }

  loss(batch: QuadBatch, ctx: StepContext): LossOutput {
    const parts: Record<string, tf.Scalar> = {};
    for (const task of batch.tasks ?? Object.keys(this.targets)) {
      let part = tf.sum(tf.square(tf.sub(this.w, this.targets[task]!))) as tf.Scalar;
      if (ctx.step === this.nanAtStep) part = tf.mul(part, Number.NaN);
      parts[`${task}/ds`] = part;
    }
    return { parts };
  }

  values(): Float32Array {
    return this.w.dataSync() as Float32Array;
  }

  dispose(): void {
    this.w.dispose();
    tf.dispose(Object.values(this.targets));
  }
}

/** The same batches every epoch, in order. */
export function fixedSource<B>(batches: B[]): BatchSource<B> {
  return { batchesPerEpoch: () => batches.length, epoch: () => batches };
}

export interface XYBatch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}

/** Seeded logistic data: x ~ N(0, I_2), y ~ Bernoulli(sigmoid(2·x0 − x1 + 0.5)). */
export function logisticData(seed: number, n: number): { x: Float32Array; y: Float32Array } {
  const rng = new RandomStream(seed);
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = rng.normal();
    const b = rng.normal();
    x[2 * i] = a;
    x[2 * i + 1] = b;
    y[i] = rng.next() < 1 / (1 + Math.exp(-(2 * a - b + 0.5))) ? 1 : 0;
  }
  return { x, y };
}

/** Shuffled mini-batches (order from the epoch's stream); batches are freed by `dispose`. */
export function xySource(
  data: { x: Float32Array; y: Float32Array },
  batchSize: number,
): BatchSource<XYBatch> {
  const n = data.y.length;
  return {
    batchesPerEpoch: () => Math.ceil(n / batchSize),
    *epoch(_epoch, rng) {
      const order = rng.permutation(n);
      for (let start = 0; start < n; start += batchSize) {
        const idx = order.subarray(start, Math.min(n, start + batchSize));
        const xs = new Float32Array(idx.length * 2);
        const ys = new Float32Array(idx.length);
        idx.forEach((r, i) => {
          xs[2 * i] = data.x[2 * r]!;
          xs[2 * i + 1] = data.x[2 * r + 1]!;
          ys[i] = data.y[r]!;
        });
        yield { x: tf.tensor2d(xs, [idx.length, 2]), y: tf.tensor2d(ys, [idx.length, 1]) };
      }
    },
    dispose: (b) => {
      b.x.dispose();
      b.y.dispose();
    },
  };
}

/**
 * Logistic regression with input dropout drawn from the step seed (so determinism and resume are
 * tested with randomness inside the step), one part `logreg/toy` and a small `extra` term.
 */
export class LogReg implements Trainable<XYBatch> {
  readonly w: tf.Variable;
  readonly b: tf.Variable;

  constructor(initSeed: number, prefix = uniqueName('logreg')) {
    this.w = tf.variable(tf.randomNormal([2, 1], 0, 0.5, 'float32', initSeed), true, `${prefix}/w`);
    this.b = tf.variable(tf.zeros([1]), true, `${prefix}/b`);
  }

  trainableVariables(): tf.Variable[] {
    return [this.w, this.b];
  }

  private logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(x, this.w as tf.Tensor2D), this.b) as tf.Tensor2D;
  }

  loss(batch: XYBatch, ctx: StepContext): LossOutput {
    const x = tf.dropout(batch.x, 0.2, undefined, ctx.seed) as tf.Tensor2D;
    const ce = tf.losses.sigmoidCrossEntropy(batch.y, this.logits(x)) as tf.Scalar;
    return { parts: { 'logreg/toy': ce }, extra: tf.mul(tf.sum(tf.square(this.b)), 1e-3) as tf.Scalar };
  }

  /** Validation loss and accuracy on `data`. */
  score(data: { x: Float32Array; y: Float32Array }): Record<string, number> {
    return tf.tidy(() => {
      const n = data.y.length;
      const x = tf.tensor2d(data.x, [n, 2]);
      const y = tf.tensor2d(data.y, [n, 1]);
      const logits = this.logits(x);
      const loss = tf.losses.sigmoidCrossEntropy(y, logits).dataSync()[0]!;
      const acc = tf.mean(tf.equal(tf.greater(logits, 0).cast('float32'), y).cast('float32')).dataSync()[0]!;
      return { 'logreg/toy/valid/loss': loss, 'logreg/toy/valid/accuracy': acc };
    });
  }

  weights(): Float32Array[] {
    return [this.w.dataSync() as Float32Array, this.b.dataSync() as Float32Array];
  }

  dispose(): void {
    this.w.dispose();
    this.b.dispose();
  }
}
